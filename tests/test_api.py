"""The Python API for downstream code: ``pipeline.load`` and its bundle, the README example,
what ``meta.json`` records, old format versions and library-version mismatches.

The models are built once per session by the pipeline's own stages (chunk the seed articles,
fit a small topic model, train the stance classifier on a third of the committed labels), so
these tests run on a fresh clone without ``dvc repro``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pipeline
from pipeline.artifacts import library_versions
from pipeline.bundle import ANALYZE_COLUMNS, Bundle
from pipeline.config import DEFAULT_TARGETS, load_config
from pipeline.errors import ArtifactError, InputError, VersionWarning
from pipeline.stance.model import LABELS
from pipeline.stance.predict import classify_paragraphs

ROOT = Path(__file__).resolve().parents[1]
TARGET_NAMES = [t.name for t in DEFAULT_TARGETS]
#: a topics model directory written by the first topics release (commit 5e23e21; see tests/data/README.md)
OLD_TOPICS = ROOT / "tests" / "data" / "topics_v1_5e23e21"
TEXTS = [
    "NATO expansion ignored our warnings.",
    "Beijing and Washington agreed to resume trade talks. The European Union welcomed the deal.",
    "The weather was mild and the harvest was good.",
    "",
]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``models/topics`` and ``models/stance`` built by the pipeline's stages."""
    from pipeline.chunk import stage as chunk_stage
    from pipeline.stance import train as train_stage
    from pipeline.topics import main as topics_main

    tmp = tmp_path_factory.mktemp("api")
    labels = (ROOT / "data" / "labels" / "train" / "written.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp / "labels.jsonl").write_text("".join(labels[::3]), encoding="utf-8")
    config = load_config(ROOT / "configs" / "default.yaml", [
        f"chunk.input={ROOT / 'seeds'}",
        f"chunk.output={tmp / 'data' / 'paragraphs.parquet'}",
        f"chunk.manifest={tmp / 'data' / 'manifest.json'}",
        f"topics.input={tmp / 'data' / 'paragraphs.parquet'}",
        f"topics.model={tmp / 'models' / 'topics'}",
        f"topics.output={tmp / 'data' / 'doc_topics.parquet'}",
        f"topics.table={tmp / 'data' / 'topic_table.parquet'}",
        f"topics.metrics={tmp / 'metrics' / 'topics.json'}",
        "topics.num_topics=4",
        "topics.tomotopy_iterations=50",
        f"stance.train={tmp / 'labels.jsonl'}",
        f"stance.model={tmp / 'models' / 'stance'}",
        f"stance.metrics={tmp / 'metrics' / 'stance.json'}",
        "stance.cv_folds=2",
    ])
    chunk_stage.main(config)
    topics_main(config)
    train_stage.main(config)
    return tmp


@pytest.fixture(scope="session")
def models(workdir: Path) -> Path:
    return workdir / "models"


@pytest.fixture(scope="session")
def bundle(models: Path) -> Bundle:
    with warnings.catch_warnings():
        warnings.simplefilter("error", VersionWarning)  # just built: the versions match
        return pipeline.load(models)


def copy_models(models: Path, dest: Path, *parts: str) -> Path:
    """Copy ``models/`` (or only some of its model directories) to ``dest / "models"``."""
    for part in parts or ("topics", "stance"):
        shutil.copytree(models / part, dest / "models" / part)
    return dest / "models"


def copy_models_as(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


def edit_meta(path: Path, **changes: object) -> dict:
    """Change top-level keys of ``path / meta.json`` (``meta.json`` is not itself hashed)."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        meta[key] = value
    (path / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter whose working directory is ``cwd``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def readme_example() -> str:
    """The ```python block of the README's ``## Python API`` section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Python API\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert section, "README.md has no '## Python API' section"
    block = re.search(r"^```python\n(.*?)^```", section.group(1), re.S | re.M)
    assert block, "the README's Python API section has no ```python block"
    return block.group(1)


# ----------------------------------------------------------------------------- the bundle


def test_load_gives_a_bundle_of_both_models(bundle, models):
    assert isinstance(bundle, Bundle) and isinstance(bundle, pipeline.Bundle)
    assert bundle.targets == TARGET_NAMES
    assert set(bundle.meta) == {"topics", "stance"}
    assert bundle.topic_model.num_topics == 4
    assert bundle.stance_model.classes_.tolist() == list(LABELS)
    assert bundle.topic_labels == [", ".join(words) for words in bundle.topic_model.ranked_words(3, "frex")]
    assert repr(bundle) == f"Bundle({str(models)!r}, models=['topics', 'stance'], targets={TARGET_NAMES})"


def test_topics_rows_sum_to_one_and_match_the_topic_model(bundle, models):
    shares = bundle.topics(TEXTS)
    assert shares.shape == (len(TEXTS), 4)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-12)
    assert np.array_equal(shares, pipeline.load_topics(models / "topics").transform(TEXTS))
    assert np.array_equal(bundle.topics(TEXTS[1:2]), shares[1:2])  # the same in any batch
    assert bundle.topics([]).shape == (0, 4)


def test_stance_gives_label_probabilities_and_evidence(bundle):
    out = bundle.stance(TEXTS[:3], ["NATO", "European Union", "China"])
    assert [set(r) for r in out] == [{"label", "probabilities", "evidence"}] * 3
    assert out[0]["label"] in LABELS and math.isclose(sum(out[0]["probabilities"].values()), 1.0)
    assert out[0]["evidence"] == TEXTS[0]
    assert out[1]["evidence"] == "The European Union welcomed the deal."
    assert out[2] == {"label": "none", "probabilities": None, "evidence": ""}
    assert bundle.stance(TEXTS[:2], "NATO")[1]["label"] == "none"  # one name for every text


def test_analyze_joins_topics_and_stance_for_every_target(bundle):
    table = bundle.analyze(TEXTS)
    n, k = len(TEXTS), len(TARGET_NAMES)
    assert list(table.columns) == list(ANALYZE_COLUMNS)
    assert len(table) == n * k and table.index.equals(pd.RangeIndex(n * k))
    assert table["text_index"].tolist() == [i for i in range(n) for _ in range(k)]
    assert table["target"].tolist() == TARGET_NAMES * n

    shares = bundle.topics(TEXTS)
    assert table["dominant_topic"].tolist() == np.repeat(shares.argmax(axis=1), k).tolist()
    assert np.array_equal(table["dominant_prob"].to_numpy(), np.repeat(shares.max(axis=1), k))
    assert table["topic_label"].tolist() == [bundle.topic_labels[t] for t in table["dominant_topic"]]

    # the stance columns hold what bundle.stance gives for each pair
    pairs = bundle.stance([TEXTS[i] for i in table["text_index"]], table["target"].tolist())
    assert table["label"].tolist() == [r["label"] for r in pairs]
    assert table["evidence"].tolist() == [r["evidence"] for r in pairs]
    for row, result in zip(table.itertuples(), pairs, strict=True):
        if result["label"] == "none":
            assert math.isnan(row.p_favor) and math.isnan(row.p_against) and math.isnan(row.p_neutral)
            assert row.mentions == 0
        else:
            assert (row.p_favor, row.p_against, row.p_neutral) == tuple(result["probabilities"][c] for c in
                                                                        ("favor", "against", "neutral"))
            assert row.mentions >= 1
    assert set(table.loc[table.text_index == 2, "label"]) == {"none"}
    assert table.loc[(table.text_index == 0) & (table.target == "NATO"), "label"].item() in LABELS


def test_analyze_has_the_columns_and_types_of_the_stage_tables(bundle):
    table = bundle.analyze(TEXTS)
    stage = classify_paragraphs(bundle.stance_model, pd.DataFrame({"doc_id": range(len(TEXTS)), "para_id": 0,
                                                                   "text": TEXTS}), TARGET_NAMES)
    stance_columns = [c for c in stage.columns if c not in ("doc_id", "para_id")]
    pd.testing.assert_frame_equal(table[stance_columns], stage[stance_columns])
    assert table.dtypes[["text_index", "dominant_topic"]].tolist() == [np.dtype("int64")] * 2
    assert table["topic_label"].dtype == "string" and table["dominant_prob"].dtype == np.float64


def test_analyze_with_chosen_targets_and_no_texts(bundle):
    table = bundle.analyze(TEXTS[:2], ["China", "NATO"])
    assert table["target"].tolist() == ["China", "NATO", "China", "NATO"]
    assert table["text_index"].tolist() == [0, 0, 1, 1]
    assert bundle.analyze(TEXTS[:2], "NATO")["target"].tolist() == ["NATO", "NATO"]
    empty = bundle.analyze([])
    assert list(empty.columns) == list(ANALYZE_COLUMNS) and len(empty) == 0
    assert empty.dtypes.equals(bundle.analyze(TEXTS[:1]).dtypes)


@pytest.mark.parametrize(("call", "message"), [
    (lambda b: b.topics("one text"),
     "bundle.topics: texts must be a list of strings, got a single string; wrap it in a list"),
    (lambda b: b.analyze("one text"),
     "bundle.analyze: texts must be a list of strings, got a single string; wrap it in a list"),
    (lambda b: b.analyze(["ok", None]), "bundle.analyze: texts[1] must be a string, got NoneType"),
    (lambda b: b.stance(["a", "b"], ["NATO"]), "bundle.stance: targets must be parallel to texts, got 1 targets "
                                               "for 2 texts"),
    (lambda b: b.analyze(["a"], ["NATO", "Mars"]), "bundle.analyze: unknown target(s) 'Mars'; the model knows West, "
                                                    "United States, NATO, China, European Union, Russia, Ukraine"),
])
def test_bad_input_is_one_input_error(bundle, call, message):
    with pytest.raises(InputError) as info:
        call(bundle)
    assert str(info.value) == message


def test_a_missing_model_fails_only_the_calls_that_need_it(models, tmp_path):
    only_topics = pipeline.load(copy_models(models, tmp_path / "t", "topics"))
    assert set(only_topics.meta) == {"topics"} and only_topics.targets == []
    assert only_topics.topics(TEXTS).shape == (len(TEXTS), 4)
    for call in (lambda: only_topics.stance(TEXTS, "NATO"), lambda: only_topics.analyze(TEXTS)):
        with pytest.raises(ArtifactError, match=r"stance: model directory not found \(run `dvc repro`"):
            call()
    only_stance = pipeline.load(copy_models(models, tmp_path / "s", "stance"))
    with pytest.raises(ArtifactError, match=r"topics: model directory not found"):
        only_stance.analyze(TEXTS)


# ----------------------------------------------------------------------------- any directory, fresh process


def test_a_fresh_process_elsewhere_needs_only_the_model_directory(bundle, models, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    copy_models(models, elsewhere)
    code = f"""
import json, warnings
import pipeline
warnings.simplefilter("error")
texts = {TEXTS!r}
bundle = pipeline.load("models")
table = bundle.analyze(texts)
print(json.dumps({{
    "topics": bundle.topics(texts).tolist(),
    "stance": bundle.stance(texts, ["NATO"] * len(texts)),
    "analyze": table.astype(object).where(table.notna(), None).to_dict("list"),
    "meta": bundle.meta,
    "classes": pipeline.load_stance("models/stance").classes_.tolist(),
    "num_topics": pipeline.load_topics("models/topics").num_topics,
}}))
"""
    done = run_python(code, elsewhere)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["topics"] == bundle.topics(TEXTS).tolist()
    assert out["stance"] == bundle.stance(TEXTS, ["NATO"] * len(TEXTS))
    table = bundle.analyze(TEXTS)
    assert out["analyze"] == table.astype(object).where(table.notna(), None).to_dict("list")
    assert out["meta"] == bundle.meta
    assert out["classes"] == list(LABELS) and out["num_topics"] == 4


def test_readme_example_runs(workdir, tmp_path):
    """The README's Python API example, as written, in a fresh process beside a copy of models/."""
    copy_models(workdir / "models", tmp_path)
    done = run_python(readme_example(), tmp_path)
    assert done.returncode == 0, f"README example failed:\n{done.stderr}"
    assert "against" in done.stdout or "favor" in done.stdout or "neutral" in done.stdout


# ----------------------------------------------------------------------------- meta.json


@pytest.mark.parametrize(("kind", "libraries"), [
    ("topics", ["gensim", "numpy", "scipy", "tomotopy"]),
    ("stance", ["numpy", "scikit-learn", "skops"]),
])
def test_meta_records_versions_config_and_hashes(bundle, workdir, kind, libraries):
    meta = bundle.meta[kind]
    path = workdir / "models" / kind
    assert meta == json.loads((path / "meta.json").read_text(encoding="utf-8"))
    assert meta["kind"] == kind and isinstance(meta["format_version"], int)
    assert meta["package_version"] == pipeline.__version__
    assert meta["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["libraries"] == library_versions(libraries)
    section = meta["config"][kind]
    assert section["model"] == str(path)
    source = Path(section["train"] if kind == "stance" else section["input"])
    assert meta["inputs"] == {str(source): hashlib.sha256(source.read_bytes()).hexdigest()}
    files = {p.name for p in path.iterdir()} - {"meta.json"}
    assert set(meta["files"]) == files
    assert all(meta["files"][f] == hashlib.sha256((path / f).read_bytes()).hexdigest() for f in files)
    assert meta["created_by"] == f"pipeline {'topics' if kind == 'topics' else 'train_stance'}"
    if kind == "stance":
        assert meta["classes"] == list(LABELS) and meta["targets"] == TARGET_NAMES
        assert [t["name"] for t in section["targets"]] == TARGET_NAMES
    else:
        assert section["num_topics"] == 4


# ----------------------------------------------------------------------------- older formats


def test_topics_model_of_the_first_release_still_loads(tmp_path):
    # written by commit 5e23e21: no engine, seed-word, collocation or lemmatisation settings,
    # and fewer libraries in meta.json
    meta = json.loads((OLD_TOPICS / "meta.json").read_text(encoding="utf-8"))
    assert meta["format_version"] == 1 and set(meta["libraries"]) == {"gensim", "numpy"} and "python" not in meta
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VersionWarning)  # the committed meta.json names the versions of its day
        model = pipeline.load_topics(OLD_TOPICS)
        shutil.copytree(OLD_TOPICS, tmp_path / "models" / "topics")
        bundle = pipeline.load(tmp_path / "models")
    assert model.engine == "gensim"  # what every model was fitted with then
    assert model.phrases is False and model.lemmatize is False and not model.preprocessor_.phrases
    shares = model.transform(["trade and tariff talks", "missile and navy drills"])
    np.testing.assert_allclose(shares, [[0.832, 0.168], [0.168, 0.832]], atol=1e-3)  # as the old code scored them
    assert bundle.meta["topics"]["package_version"] == "0.1.0"


def test_a_newer_format_version_asks_to_upgrade_or_rebuild(models, tmp_path):
    path = copy_models_as(models / "topics", tmp_path / "topics")
    edit_meta(path, format_version=2, package_version="9.0.0")
    with pytest.raises(ArtifactError) as info:
        pipeline.load_topics(path)
    assert str(info.value) == (f"{path}: format version 2 is not supported by this package (supports [1]), "
                               f"written by a newer newsstance-pipeline (9.0.0): upgrade the package or rebuild "
                               f"it with `dvc repro topics` (or `pipeline topics`)")


def test_an_unknown_format_version_names_the_rebuild_command(models, tmp_path):
    path = copy_models_as(models / "stance", tmp_path / "stance")
    edit_meta(path, format_version=0)
    with pytest.raises(ArtifactError) as info:
        pipeline.load_stance(path)
    assert str(info.value) == (f"{path}: format version 0 is not supported by this package (supports [2]); "
                               f"rebuild it with `dvc repro train_stance` (or `pipeline train_stance`)")


# ----------------------------------------------------------------------------- library versions


@pytest.mark.parametrize(("kind", "library"), [
    ("topics", "numpy"), ("topics", "gensim"), ("topics", "tomotopy"), ("topics", "scipy"),
    ("stance", "scikit-learn"), ("stance", "numpy"), ("stance", "skops"),
])
def test_another_library_version_warns_and_still_loads(bundle, models, tmp_path, kind, library):
    path = copy_models_as(models / kind, tmp_path / "models" / kind)
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    installed = meta["libraries"][library]
    edit_meta(path, libraries={**meta["libraries"], library: "0.0.1"})
    with pytest.warns(VersionWarning) as caught:
        loaded = pipeline.load(tmp_path / "models")
    assert len(caught) == 1
    warning = caught[0]
    assert issubclass(warning.category, UserWarning)
    assert str(warning.message) == (
        f"{path}: built with {library} 0.0.1 (installed: {installed}); it loads, but its results may differ "
        f"from those it gave when it was built. Rebuild it with "
        + ("`dvc repro topics` (or `pipeline topics`)" if kind == "topics"
           else "`dvc repro train_stance` (or `pipeline train_stance`)")
        + " to match this environment")
    assert warning.filename == __file__  # points at the caller, not at the package
    if kind == "topics":
        assert np.array_equal(loaded.topics(TEXTS), bundle.topics(TEXTS))
    else:
        assert loaded.stance(TEXTS, "NATO") == bundle.stance(TEXTS, "NATO")


def test_one_warning_lists_every_library_that_changed(models, tmp_path):
    path = copy_models_as(models / "stance", tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    edit_meta(path, libraries={**meta["libraries"], "numpy": "1.0.0", "scikit-learn": "1.0.0"})
    with pytest.warns(VersionWarning) as caught:
        pipeline.load_stance(path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"numpy 1.0.0 (installed: {meta['libraries']['numpy']})" in message
    assert f"scikit-learn 1.0.0 (installed: {meta['libraries']['scikit-learn']})" in message


def test_the_warning_can_be_made_an_error(models, tmp_path):
    path = copy_models_as(models / "topics", tmp_path / "topics")
    edit_meta(path, libraries={"gensim": "3.0.0"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", pipeline.VersionWarning)
        with pytest.raises(VersionWarning, match="built with gensim 3.0.0"):
            pipeline.load_topics(path)


def test_a_library_not_installed_at_build_time_is_not_a_mismatch(models, tmp_path):
    path = copy_models_as(models / "topics", tmp_path / "topics")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    edit_meta(path, libraries={**meta["libraries"], "tomotopy": "missing"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", VersionWarning)
        pipeline.load_topics(path)


def test_a_classifier_skops_cannot_rebuild_names_the_versions_and_the_fix(models, tmp_path, monkeypatch):
    import skops.io

    path = copy_models_as(models / "stance", tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    edit_meta(path, libraries={**meta["libraries"], "scikit-learn": "0.0.1"})

    def incompatible(*args, **kwargs):
        raise AttributeError("'LogisticRegression' object has no attribute 'multi_class'")

    monkeypatch.setattr(skops.io, "load", incompatible)
    with pytest.warns(VersionWarning), pytest.raises(ArtifactError) as info:
        pipeline.load_stance(path)
    assert str(info.value) == (
        f"{path / 'model.skops'}: cannot load the classifier: AttributeError: 'LogisticRegression' object has no "
        f"attribute 'multi_class'; it was built with scikit-learn 0.0.1 (installed: "
        f"{meta['libraries']['scikit-learn']}); rebuild it with `dvc repro train_stance` (or `pipeline train_stance`)")
