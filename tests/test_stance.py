"""Stance stages: target matching, the labelled data, the classifier, its model directory,
the ``train_stance`` and ``stance`` stages, the bundle and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import cli
from pipeline.config import DEFAULT_TARGETS, Config, TargetConfig, load_config
from pipeline.errors import ArtifactError, ConfigError, DataError, InputError
from pipeline.stance import predict as predict_stage
from pipeline.stance import train as train_stage
from pipeline.stance.data import format_counts, label_counts, read_labels
from pipeline.stance.features import OTHER_TOKEN, TARGET_TOKEN, sentence_spans, target_view
from pipeline.stance.model import LABELS, StanceClassifier
from pipeline.stance.storage import load_stance, save_stance
from pipeline.stance.targets import all_mentions, compile_target, compile_targets, find_mentions

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "default.yaml"
LABELLED = ROOT / "data" / "labels" / "train" / "written.jsonl"
TARGET_NAMES = [t.name for t in DEFAULT_TARGETS]
BY_NAME = {t.name: t for t in DEFAULT_TARGETS}


def config_for(tmp_path: Path, *extra: str, train: Path = LABELLED):
    """The default config with every stance path inside ``tmp_path``."""
    return load_config(CONFIG, [
        f"stance.train={train}",
        f"stance.input={tmp_path / 'paragraphs.parquet'}",
        f"stance.model={tmp_path / 'models' / 'stance'}",
        f"stance.output={tmp_path / 'stance.parquet'}",
        f"stance.summary={tmp_path / 'stance_summary.parquet'}",
        f"stance.metrics={tmp_path / 'metrics' / 'stance.json'}",
        *extra,
    ])


def spans_text(text: str, target: TargetConfig) -> list[str]:
    return [text[s:e] for s, e in find_mentions(text, target)]


@pytest.fixture(scope="module")
def examples():
    return read_labels(LABELLED, TARGET_NAMES)


@pytest.fixture(scope="module")
def subset(examples):
    """Every third labelled example: all targets and labels, fast to train on."""
    return examples[::3]


@pytest.fixture(scope="module")
def fitted(subset):
    model = train_stage.build_model(Config().stance)
    return model.fit([(e.text, e.target) for e in subset], [e.label for e in subset])


# ----------------------------------------------------------------------------- targets


def test_case_sensitive_alias_us_is_not_us():
    us = BY_NAME["United States"]
    assert spans_text("Tell us what the US and the U.S. want from us.", us) == ["US", "U.S."]
    assert spans_text("The USA, Washington and the White House; Americans and an American.", us) == [
        "USA", "Washington", "White House", "Americans", "American"]
    assert find_mentions("Trust us, this bus is for us.", us) == []


def test_russian_matches_russia_with_word_boundaries():
    russia = BY_NAME["Russia"]
    text = "Russian troops, Russia's army, anti-Russian rhetoric, Russians, the Russian Federation, Kremlin."
    assert spans_text(text, russia) == ["Russian", "Russia", "Russian", "Russians", "Russian Federation", "Kremlin"]
    assert find_mentions("Prussian kings and Belarusian farmers", russia) == []
    assert spans_text("Ukraine, Ukrainian and Ukrainians; Kyiv or Kiev.", BY_NAME["Ukraine"]) == [
        "Ukraine", "Ukrainian", "Ukrainians", "Kyiv", "Kiev"]


def test_case_insensitive_aliases_and_curly_apostrophes():
    assert spans_text("THE WEST and the West and Western partners", BY_NAME["West"]) == [
        "THE WEST", "the West", "Western partners"]
    assert spans_text("Western Countries and the COLLECTIVE WEST", BY_NAME["West"]) == [
        "Western Countries", "COLLECTIVE WEST"]
    assert spans_text("the People’s Republic of China", BY_NAME["China"]) == ["People’s Republic of China"]
    eu = BY_NAME["European Union"]
    assert spans_text("the EU, EU's, eu and EUR", eu) == ["EU", "EU"]


@pytest.mark.parametrize(("text", "target", "found"), [
    ("the West Bank, West Africa, the West Indies and the west of the country", "West", []),
    ("the West and the Western Balkans", "West", ["the West"]),
    ("Latin American, Inter-American and Central American states", "United States", []),
    ("the Organization of American States and US$ 5 million", "United States", []),
    ("American troops and the US", "United States", ["American", "US"]),
    ("the Alliance of Small Island States and the Alliance for the Sahel", "NATO", []),
    ("the Alliance met", "NATO", ["the Alliance"]),
    ("the Republic of China on Taiwan, the South China Sea and Chinese Taipei", "China", []),
    ("the Beijing Declaration and Platform for Action, Beijing+20", "China", []),
    ("China and the People's Republic of China", "China", ["China", "People's Republic of China"]),
])
def test_default_aliases_skip_false_friends(text, target, found):
    assert spans_text(text, BY_NAME[target]) == found


def test_compiled_matcher_and_errors():
    target = TargetConfig(name="Turkey", aliases=["T(u|ü)rk(ey|iye)", "Ankara"], case_sensitive_aliases=["(?i)TR"])
    matcher = compile_target(target)
    assert matcher.name == "Turkey"
    assert [m for m in matcher.find_mentions("Türkiye and tr and Ankara")] == [(0, 7), (12, 14), (19, 25)]
    with pytest.raises(ConfigError, match="stance target 'Bad': invalid alias pattern"):
        compile_target({"name": "Bad", "aliases": ["(unclosed"]})
    with pytest.raises(ConfigError, match="defined twice"):
        compile_targets([BY_NAME["NATO"], BY_NAME["NATO"]])


def test_all_mentions_resolves_overlaps_and_names_targets():
    matchers = list(compile_targets(DEFAULT_TARGETS).values())
    text = "The US-led NATO and the Russian Federation met the EU in Brussels."
    found = [(text[s:e], name) for s, e, name in all_mentions(text, matchers)]
    assert found == [("US", "United States"), ("NATO", "NATO"), ("Russian Federation", "Russia"),
                     ("EU", "European Union"), ("Brussels", "European Union")]


# ----------------------------------------------------------------------------- features


def test_sentence_spans_keep_abbreviations_and_initials():
    text = "M. K. Bhadrakumar met the U.S. envoy. NATO ignored it! \"Why?\" asked Mr. Lavrov.\nA heading\nThe end"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "M. K. Bhadrakumar met the U.S. envoy.", "NATO ignored it!", "\"Why?\" asked Mr. Lavrov.",
        "A heading", "The end"]


def test_two_nato_russia_sentences_are_target_relative():
    matchers = list(compile_targets(DEFAULT_TARGETS).values())
    a, b = "NATO ignored Russia's concerns.", "Russia ignored NATO's concerns."
    view = target_view(a, "NATO", matchers, window=12)
    assert view.doc == (TARGET_TOKEN, "ignored", OTHER_TOKEN, "s", "concerns")
    assert view.mentions == 1 and view.sentence_spans == ((0, len(a)),)
    assert target_view(a, "Russia", matchers, 12).doc == (OTHER_TOKEN, "ignored", TARGET_TOKEN, "s", "concerns")
    # the same text toward two targets, and two texts with the same words, give different features
    assert target_view(a, "Russia", matchers, 12).doc == target_view(b, "NATO", matchers, 12).doc
    assert target_view(a, "NATO", matchers, 12).doc != target_view(b, "NATO", matchers, 12).doc


def test_word_order_decides_the_stance_of_mirrored_sentences():
    # a bag of words cannot tell these apart; the target-relative model learns who did what to whom
    pairs, labels = [], []
    for actor, victim in [("China", "European Union"), ("United States", "Ukraine"), ("West", "China"),
                          ("European Union", "United States"), ("Ukraine", "West")]:
        names = {"China": "China", "European Union": "the EU", "United States": "Washington",
                 "Ukraine": "Kyiv", "West": "the West"}
        text = f"{names[actor]} ignored the concerns of {names[victim]} again."
        pairs += [(text, actor), (text, victim)]
        labels += ["against", "favor"]
        neutral = f"{names[actor]} and {names[victim]} met on Monday."
        pairs += [(neutral, actor), (neutral, victim)]
        labels += ["neutral", "neutral"]
    model = StanceClassifier(C=100.0, random_state=0).fit(pairs, labels)
    assert model.calibration_ == "none"  # too little data to calibrate
    texts = ["NATO ignored the concerns of Russia again.", "Russia ignored the concerns of NATO again."]
    assert model.predict(texts, ["NATO", "NATO"]).tolist() == ["against", "favor"]
    assert model.predict(texts, ["Russia", "Russia"]).tolist() == ["favor", "against"]


# ----------------------------------------------------------------------------- labelled data


def test_committed_labelled_data_is_complete_and_valid(examples):
    counts = label_counts(examples)
    print("\n" + format_counts(examples))  # the counts, for `pytest -s`
    assert len(examples) >= 2500
    assert set(counts) == set(TARGET_NAMES)
    for target, row in counts.items():
        assert sum(row.values()) >= 60, target
        assert min(row.values()) >= 15, (target, row)
    matchers = compile_targets(DEFAULT_TARGETS)
    seeds = {p.stem: " ".join(p.read_text(encoding="utf-8").split()) for p in (ROOT / "seeds").glob("*.txt")}
    keys = set()
    for e in examples:
        assert matchers[e.target].mentions(e.text), (e.line, e.target)
        assert (e.text, e.target) not in keys, e.line
        keys.add((e.text, e.target))
        if e.source.startswith("seed:"):
            assert e.text in seeds[e.source.removeprefix("seed:")], e.line
        else:
            assert e.source in ("written", "written:speech"), e.line
    sources = {e.source.split(":")[0] for e in examples}
    assert sources == {"written", "seed"}
    assert sum(e.source == "written" for e in examples) >= 420


@pytest.mark.parametrize(("line", "message"), [
    ('{"text": "NATO met.", "target": "NATO"', "not valid JSON: Expecting ',' delimiter (column 39)"),
    ('["NATO met.", "NATO", "neutral"]', "expected a JSON object with text, target and label, got list"),
    ('{"text": "NATO met.", "label": "neutral"}', "missing field(s) target"),
    ('{"text": "NATO met.", "target": "NATO", "label": "pro"}',
     "unknown label 'pro', expected one of against, favor, neutral"),
    ('{"text": "Mars met.", "target": "Mars", "label": "neutral"}',
     "target 'Mars' is not in stance.targets (West, United States, NATO, China, European Union, Russia, Ukraine)"),
    ('{"text": "  ", "target": "NATO", "label": "neutral"}', "text must be a non-empty string"),
])
def test_malformed_training_data_names_file_and_line(tmp_path, line, message):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"text": "NATO met.", "target": "NATO", "label": "neutral"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_labels(path, TARGET_NAMES)
    assert str(info.value) == f"{path}:3: {message}"


def test_missing_or_empty_training_data(tmp_path):
    with pytest.raises(InputError, match="labelled stance data not found"):
        read_labels(tmp_path / "nope.jsonl", TARGET_NAMES)
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no labelled examples"):
        read_labels(tmp_path / "empty.jsonl", TARGET_NAMES)


# ----------------------------------------------------------------------------- classifier


def test_classifier_contract(fitted, subset):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    assert fitted.classes_.tolist() == list(LABELS)
    assert fitted.calibration_ == "sigmoid"
    params = fitted.get_params()
    assert params["C"] == 4.0 and params["window"] == 12 and params["random_state"] == 42
    fresh = clone(fitted)
    assert not hasattr(fresh, "classifier_")
    with pytest.raises(NotFittedError):
        fresh.predict(["NATO met."], ["NATO"])
    with pytest.raises(ValueError, match="StanceClassifier: window: input should be greater than or equal to 1, got 0"):
        StanceClassifier(window=0).fit([("NATO met.", "NATO"), ("NATO won.", "NATO")], ["neutral", "favor"])
    with pytest.raises(ValueError, match=r"unknown target\(s\) \['Mars'\]"):
        fitted.predict(["Mars is red."], ["Mars"])
    with pytest.raises(TypeError, match="single string"):
        fitted.predict("NATO met.", ["NATO"])
    proba = fitted.predict_proba([(e.text, e.target) for e in subset[:20]])
    assert proba.shape == (20, 3) and np.allclose(proba.sum(axis=1), 1.0)
    frame = pd.DataFrame({"text": [e.text for e in subset[:5]], "target": [e.target for e in subset[:5]]})
    assert fitted.predict(frame).tolist() == fitted.predict(frame["text"].tolist(), frame["target"].tolist()).tolist()


def test_analyze_labels_none_and_picks_evidence(fitted):
    texts = ["The weather in the capital was mild.",
             "The talks took place on Monday. Beijing has bullied its neighbours and broken its promises again."]
    result = fitted.analyze(texts, ["China", "China"])
    assert result.labels[0] == "none" and result.evidence[0] == "" and np.isnan(result.probabilities[0]).all()
    assert result.labels[1] in LABELS
    assert result.evidence[1] == "Beijing has bullied its neighbours and broken its promises again."
    assert result.mentions.tolist() == [0, 1]
    assert fitted.evidence(texts, ["China", "China"]) == result.evidence


def test_training_is_deterministic(examples, tmp_path):
    small = examples[::9]
    settings = config_for(tmp_path, "stance.cv_folds=2").stance
    model, metrics = train_stage.train(settings, small)
    again, metrics_again = train_stage.train(settings, small)
    assert metrics == metrics_again
    probe = [(e.text, e.target) for e in small[:30]]
    assert np.array_equal(model.predict_proba(probe), again.predict_proba(probe))


def test_training_metrics(subset, tmp_path):
    settings = config_for(tmp_path, "stance.cv_folds=3").stance
    _, metrics = train_stage.train(settings, subset)
    assert {"macro_f1", "accuracy", "baseline_macro_f1", "cv_folds", "cv_stratified_by", "per_target",
            "per_label", "label_counts", "examples", "calibration"} <= set(metrics)
    assert metrics["cv_folds"] == 3 and metrics["examples"] == len(subset)
    assert set(metrics["per_target"]) == set(TARGET_NAMES)
    for row in metrics["per_target"].values():
        assert {"macro_f1", "accuracy", "examples", "label_counts"} <= set(row)
    assert metrics["macro_f1"] > metrics["baseline_macro_f1"]
    assert metrics["macro_f1"] == round(metrics["macro_f1"], 6)
    assert sum(metrics["label_counts"].values()) == len(subset)


def test_tiny_training_data_falls_back(tmp_path):
    settings = config_for(tmp_path).stance
    tiny = read_labels_from(tmp_path, [("NATO won.", "NATO", "favor"), ("NATO lost.", "NATO", "against"),
                                       ("China won.", "China", "favor")])
    model, metrics = train_stage.train(settings, tiny)
    assert metrics["macro_f1"] is None and metrics["cv_folds"] == 0 and "cv_skipped" in metrics
    assert model.calibration_ == "none"


def read_labels_from(tmp_path: Path, rows: list[tuple[str, str, str]]):
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps({"text": t, "target": g, "label": lab}) + "\n" for t, g, lab in rows),
                    encoding="utf-8")
    return read_labels(path, TARGET_NAMES)


# ----------------------------------------------------------------------------- model directory


def test_save_load_round_trip(fitted, subset, tmp_path):
    path = save_stance(fitted, tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "stance" and meta["format_version"] == 2 and set(meta["files"]) == {"model.skops"}
    assert set(meta["libraries"]) == {"scikit-learn", "numpy", "skops"}
    assert [t["name"] for t in meta["config"]["stance"]["targets"]] == TARGET_NAMES
    loaded = load_stance(path)
    probe = [(e.text, e.target) for e in subset[:40]]
    assert np.array_equal(loaded.predict_proba(probe), fitted.predict_proba(probe))
    assert loaded.classes_.tolist() == list(LABELS)


def test_tampered_model_is_refused_before_unpickling(fitted, tmp_path, monkeypatch):
    import skops.io

    path = save_stance(fitted, tmp_path / "stance")
    with open(path / "model.skops", "ab") as fh:
        fh.write(b"\0")

    def never(*args, **kwargs):
        raise AssertionError("read a file that failed its hash check")

    monkeypatch.setattr(skops.io, "get_untrusted_types", never)
    monkeypatch.setattr(skops.io, "load", never)
    with pytest.raises(ArtifactError, match="hash differs from meta.json"):
        load_stance(path)


def test_wrong_kind_and_missing_directory(fitted, tmp_path):
    with pytest.raises(ArtifactError, match="model directory not found"):
        load_stance(tmp_path / "nothing")
    path = save_stance(fitted, tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    meta["kind"] = "topics"
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError, match="holds a 'topics' artifact, expected 'stance'"):
        load_stance(path)


# ----------------------------------------------------------------------------- stages


def write_paragraphs(path: Path) -> pd.DataFrame:
    frame = pd.DataFrame({
        "doc_id": pd.array(["a", "a", "b"], dtype="string"),
        "para_id": np.array([0, 1, 0], dtype=np.int32),
        "text": pd.array(["NATO ignored Russia's concerns. The meeting ended early.",
                          "The weather was fine.",
                          "Beijing praised Moscow. The EU imposed new sanctions on Russia."], dtype="string"),
        "start": [0, 60, 0],
        "end": [58, 81, 62],
        "duplicate_of": pd.array([None, None, None], dtype="string"),
        "source_path": ["a.txt", "a.txt", "b.txt"],
    })
    frame.to_parquet(path, index=False)
    return frame


@pytest.fixture()
def trained_workspace(tmp_path, fitted):
    config = config_for(tmp_path)
    save_stance(fitted, config.stance.model, config={"stance": config.stance.model_dump(mode="json")})
    write_paragraphs(config.stance.input)
    return config


def test_predict_stage_writes_every_paragraph_and_target(trained_workspace):
    config = trained_workspace
    predict_stage.main(config)
    rows = pd.read_parquet(config.stance.output)
    assert list(rows.columns) == ["doc_id", "para_id", "target", "label", "p_favor", "p_against", "p_neutral",
                                  "evidence", "mentions"]
    assert len(rows) == 3 * len(TARGET_NAMES)
    assert rows["target"].tolist()[:7] == TARGET_NAMES
    none = rows[rows["label"] == "none"]
    some = rows[rows["label"] != "none"]
    assert set(zip(some["doc_id"], some["para_id"], some["target"], strict=True)) == {
        ("a", 0, "NATO"), ("a", 0, "Russia"), ("b", 0, "China"), ("b", 0, "Russia"), ("b", 0, "European Union")}
    assert none[["p_favor", "p_against", "p_neutral"]].isna().all().all()
    assert (none["evidence"] == "").all() and (none["mentions"] == 0).all()
    assert np.allclose(some[["p_favor", "p_against", "p_neutral"]].sum(axis=1), 1.0)
    assert set(some["label"]) <= set(LABELS)
    nato = some[some["target"] == "NATO"].iloc[0]
    assert nato["evidence"] == "NATO ignored Russia's concerns."
    russia_b = some[(some["target"] == "Russia") & (some["doc_id"] == "b")].iloc[0]
    assert russia_b["mentions"] == 2

    summary = pd.read_parquet(config.stance.summary)
    assert list(summary.columns) == ["doc_id", "target", "paragraphs", "against", "favor", "neutral", "none"]
    assert len(summary) == 2 * len(TARGET_NAMES)
    a_west = summary[(summary["doc_id"] == "a") & (summary["target"] == "West")].iloc[0]
    assert a_west["paragraphs"] == 2 and a_west["none"] == 2
    assert (summary[["against", "favor", "neutral", "none"]].sum(axis=1) == summary["paragraphs"]).all()


def test_predict_stage_refuses_other_targets_and_bad_tables(trained_workspace, tmp_path):
    config = trained_workspace
    changed = config.model_copy(update={"stance": config.stance.model_copy(
        update={"targets": list(DEFAULT_TARGETS[:3])})})
    with pytest.raises(ConfigError, match="stance.targets differ from those the model"):
        predict_stage.main(changed)
    pd.DataFrame({"doc_id": ["a"], "words": ["NATO"]}).to_parquet(config.stance.input, index=False)
    with pytest.raises(DataError, match="missing column\\(s\\) para_id, text"):
        predict_stage.main(config)


def test_predict_stage_on_empty_table(trained_workspace):
    config = trained_workspace
    frame = write_paragraphs(config.stance.input).iloc[:0]
    frame.to_parquet(config.stance.input, index=False)
    predict_stage.main(config)
    assert len(pd.read_parquet(config.stance.output)) == 0
    assert len(pd.read_parquet(config.stance.summary)) == 0


def test_bundle_stance_and_missing_topics(trained_workspace):
    import pipeline

    config = trained_workspace
    bundle = pipeline.load(config.stance.model.parent)
    assert bundle.targets == TARGET_NAMES
    out = bundle.stance(["NATO ignored Russia's concerns.", "Nothing to see here."], ["NATO", "NATO"])
    assert out[0]["label"] in LABELS and set(out[0]["probabilities"]) == set(LABELS)
    assert math.isclose(sum(out[0]["probabilities"].values()), 1.0)
    assert out[0]["evidence"] == "NATO ignored Russia's concerns."
    assert out[1] == {"label": "none", "probabilities": None, "evidence": ""}
    assert [r["label"] for r in bundle.stance(["Kyiv met Washington."], "Ukraine")] != ["none"]
    with pytest.raises(InputError, match="unknown target\\(s\\) 'Mars'"):
        bundle.stance(["Mars"], ["Mars"])
    with pytest.raises(ArtifactError, match="topics: model directory not found"):
        bundle.topics(["anything"])
    with pytest.raises(ArtifactError, match="no topics/ or stance/ model directory"):
        pipeline.load(config.stance.model.parent / "empty")


# ----------------------------------------------------------------------------- CLI and config


def _cli_args(tmp_path: Path, stage: str, train: Path) -> list[str]:
    return [stage, "--config", str(CONFIG),
            "--set", f"stance.train={train}",
            "--set", f"stance.input={tmp_path / 'paragraphs.parquet'}",
            "--set", f"stance.model={tmp_path / 'models' / 'stance'}",
            "--set", f"stance.output={tmp_path / 'stance.parquet'}",
            "--set", f"stance.summary={tmp_path / 'stance_summary.parquet'}",
            "--set", f"stance.metrics={tmp_path / 'metrics.json'}",
            "--set", "stance.cv_folds=2"]


def test_cli_runs_both_stages(tmp_path, subset):
    train = tmp_path / "labels.jsonl"
    train.write_text("".join(json.dumps({"text": e.text, "target": e.target, "label": e.label}) + "\n"
                             for e in subset[::3]), encoding="utf-8")
    write_paragraphs(tmp_path / "paragraphs.parquet")
    assert cli.main(_cli_args(tmp_path, "train_stance", train)) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["cv_folds"] == 2 and metrics["macro_f1"] is not None
    assert cli.main(_cli_args(tmp_path, "stance", train)) == 0
    assert len(pd.read_parquet(tmp_path / "stance.parquet")) == 3 * len(TARGET_NAMES)


def test_cli_malformed_training_data_is_one_error_line(tmp_path, capsys):
    train = tmp_path / "labels.jsonl"
    train.write_text('{"text": "NATO met.", "target": "NATO", "label": "neutral"}\n'
                     '{"text": "NATO met.", "target": "NATO", "label": "pro"}\n', encoding="utf-8")
    assert cli.main(_cli_args(tmp_path, "train_stance", train)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"Error: {train}:2: unknown label 'pro', expected one of against, favor, neutral"]


def test_cli_missing_model_is_one_error_line(tmp_path, capsys):
    write_paragraphs(tmp_path / "paragraphs.parquet")
    assert cli.main(_cli_args(tmp_path, "stance", LABELLED)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"Error: {tmp_path / 'models' / 'stance'}: model directory not found (run `dvc repro` to build it)"]


def test_stance_config_yaml_matches_class_defaults():
    assert load_config(CONFIG).stance == Config().stance


# ----------------------------------------------------------------------------- feature options


def test_lexicon_cues_are_word_prefixes():
    from pipeline.stance.features import COOPERATIVE, HOSTILE, cue

    assert cue("aggression") == "hostile" and cue("sanctions") == "hostile" and cue("hegemony") == "hostile"
    assert cue("partnership") == "coop" and cue("thank") == "coop" and cue("cooperation") == "coop"
    assert cue("table") == "" and cue("destabilizing") == "hostile" and cue("of") == ""
    # prefixes of single tokens: the tokeniser never yields spaces or hyphens
    assert all(p == p.lower() and p.isalpha() for p in HOSTILE + COOPERATIVE)


def test_analyzer_options_add_their_blocks():
    from pipeline.stance.features import ContextAnalyzer

    matchers = list(compile_targets(DEFAULT_TARGETS).values())
    text = "Russia does not support NATO and its harsh sanctions. #peace @un"
    view = target_view(text, "NATO", matchers, window=4)
    plain = ContextAnalyzer()(view)
    assert not any(f.startswith(("L:", "c:")) or "~" in f for f in plain)
    lexicon = ContextAnalyzer(lexicon=True)(view)
    assert "L:s:coop_neg" in lexicon and "L:w:hostile" in lexicon and "L:w:hostile:after" in lexicon
    assert "L:n:coop_neg" in lexicon and "L:n:hostile" not in lexicon  # "sanctions" is 4 words away
    negated = ContextAnalyzer(negation=True)(view)
    assert "s:~support" in negated and "s:~and" in negated and "s:its" in negated
    chars = ContextAnalyzer(char_ngram_range=(2, 3))(view)
    assert "c: s" in chars and "c:san" in chars and not any("xxt" in f for f in chars if f.startswith("c:"))
    assert "c:pe" not in chars  # "peace" is outside the window of 4 words
    assert "c:pe" in ContextAnalyzer(char_ngram_range=(2, 3), char_scope="doc")(view)
    assert "d:#peace" in ContextAnalyzer()(target_view(text, "NATO", matchers, 4, social_tokens=True))
    assert "d:peace" in plain and "d:#peace" not in plain
    crossed = ContextAnalyzer(target_features=True, target_scope="doc")(view)
    assert "x:nato:russia" not in crossed and f"x:nato:{OTHER_TOKEN}" in crossed and "x:nato:peace" in crossed


def test_source_weights_pick_the_longest_matching_source_prefix():
    weights = {"ungdc": 3.0, "written": 0.5, "written:roles": 2.0}
    assert train_stage.source_weight("ungdc:72:POL:14", weights) == 3.0
    assert train_stage.source_weight("written", weights) == 0.5
    assert train_stage.source_weight("written:speech", weights) == 0.5
    assert train_stage.source_weight("written:roles", weights) == 2.0
    assert train_stage.source_weight("seed:article", weights) == 1.0
    assert train_stage.source_weight("ungdcx", weights) == 1.0  # a key is a whole source name, not any prefix
    assert train_stage.sample_weights([], {}) is None


def test_sample_weights_change_the_fit_and_weight_one_is_no_weight(subset):
    pairs, labels = [(e.text, e.target) for e in subset], [e.label for e in subset]
    plain = StanceClassifier(calibration="none").fit(pairs, labels)
    ones = StanceClassifier(calibration="none").fit(pairs, labels, sample_weight=np.ones(len(pairs)))
    np.testing.assert_allclose(plain.classifier_.coef_, ones.classifier_.coef_, atol=1e-6)
    heavy = np.where(np.arange(len(pairs)) % 3 == 0, 3.0, 1.0)
    weighted = StanceClassifier(calibration="none").fit(pairs, labels, sample_weight=heavy)
    assert np.abs(weighted.classifier_.coef_ - plain.classifier_.coef_).max() > 1e-3
    with pytest.raises(ValueError, match="sample_weight"):
        StanceClassifier(calibration="none").fit(pairs, labels, sample_weight=np.zeros(len(pairs)))
    with pytest.raises(ValueError, match="sample_weight"):
        StanceClassifier(calibration="none").fit(pairs, labels, sample_weight=[1.0])


def test_source_weights_are_validated_by_the_config():
    with pytest.raises(ConfigError, match="source_weights"):
        load_config(CONFIG, ["stance.source_weights={ungdc: 0}"])


def test_block_weights_scale_the_idf_of_their_block(subset):
    pairs, labels = [(e.text, e.target) for e in subset], [e.label for e in subset]
    plain = StanceClassifier(calibration="none").fit(pairs, labels)
    weighted = StanceClassifier(calibration="none", block_weights={"doc": 0.5, "lexicon": 2.0}).fit(pairs, labels)
    vocabulary = plain.vectorizer_.vocabulary_
    assert vocabulary == weighted.vectorizer_.vocabulary_
    ratio = weighted.vectorizer_.idf_ / plain.vectorizer_.idf_
    for feature, column in list(vocabulary.items())[:500]:
        expected = {"d:": 0.5, "L:": 2.0}.get(feature[:2], 1.0)
        assert ratio[column] == pytest.approx(expected)
    with pytest.raises(ValueError, match="StanceClassifier: block_weights"):
        StanceClassifier(block_weights={"title": 2.0}).fit(pairs, labels)
    with pytest.raises(ValueError, match="StanceClassifier: char_ngram_range"):
        StanceClassifier(char_ngram_range=(4, 2)).fit(pairs, labels)
    with pytest.raises(ValueError, match="StanceClassifier: char_scope"):
        StanceClassifier(char_scope="title").fit(pairs, labels)


def test_feature_blocks_are_named_once():
    from pipeline.config.schema import FEATURE_BLOCKS
    from pipeline.stance.model import BLOCK_PREFIXES

    assert tuple(BLOCK_PREFIXES) == FEATURE_BLOCKS
    with pytest.raises(ConfigError, match="input should be 'doc', 'sentences'"):
        load_config(CONFIG, ["stance.block_weights={title: 1}"])


def test_config_maps_the_feature_options():
    model = train_stage.build_model(load_config(CONFIG, [
        "stance.char_ngram_max=5", "stance.char_scope=doc", "stance.negation=true",
        "stance.block_weights={doc: 0.5}", "stance.social_tokens=true", "stance.target_scope=doc"]).stance)
    params = model.get_params()
    assert params["char_ngram_range"] == (2, 5) and params["char_scope"] == "doc" and params["negation"] is True
    assert params["block_weights"] == {"doc": 0.5} and params["social_tokens"] is True
    assert params["target_scope"] == "doc" and params["lexicon"] is True
    default = train_stage.build_model(load_config(CONFIG).stance).get_params()
    assert default["char_ngram_range"] == (0, 0) and default["block_weights"] == {"roles": 4.0}
    assert default["roles"] is True
    with pytest.raises(ConfigError, match="char_ngram_min"):
        load_config(CONFIG, ["stance.char_ngram_min=4", "stance.char_ngram_max=3"])
    with pytest.raises(ConfigError, match="block weights must be > 0"):
        load_config(CONFIG, ["stance.block_weights={doc: 0}"])
    with pytest.raises(ConfigError):
        load_config(CONFIG, ["stance.block_weights={title: 1}"])


# ----------------------------------------------------------------------------- prior correction (label_scales)


def test_rescale_multiplies_and_renormalises():
    from pipeline.stance.model import rescale

    proba = np.asarray([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    assert rescale(proba, LABELS, None) is proba
    out = rescale(proba, LABELS, {"neutral": 2.0})
    assert np.allclose(out.sum(axis=1), 1.0)
    assert np.allclose(out[0], np.asarray([0.5, 0.3, 0.4]) / 1.2)


def test_tune_label_scales_finds_a_shifted_prior_and_leaves_good_ones_alone():
    rng = np.random.default_rng(0)
    truth = np.asarray(["favor"] * 300 + ["neutral"] * 200 + ["against"] * 100)
    proba = rng.dirichlet([1, 1, 1], len(truth))
    proba[np.arange(len(truth)), [LABELS.index(t) for t in truth]] += 1.0
    biased = proba * np.asarray([1.0, 3.0, 1.0])  # the model over-predicts favor
    biased /= biased.sum(axis=1, keepdims=True)
    scales = train_stage.tune_label_scales(biased, LABELS, truth.tolist())
    assert scales["favor"] == 1.0  # the most frequent label is the reference
    assert scales["against"] >= 2.0 and scales["neutral"] >= 2.0
    exact = np.eye(3)[[LABELS.index(t) for t in truth]] * 0.8 + 0.2 / 3  # already perfect: no change
    assert train_stage.tune_label_scales(exact, LABELS, truth.tolist()) == {label: 1.0 for label in LABELS}


def test_document_of_groups_paragraphs_of_one_speech():
    from pipeline.stance.data import LabelledExample

    def item(source, text="x"):
        return LabelledExample(text, "China", "neutral", source, 1)

    assert train_stage.document_of(item("ungdc:70:AFG:18")) == train_stage.document_of(item("ungdc:70:AFG:3"))
    assert train_stage.document_of(item("written:speech", "a")) != train_stage.document_of(item("written:speech", "b"))


def test_label_scales_auto_is_tuned_applied_and_saved(subset, tmp_path):
    small = subset[::2]
    settings = config_for(tmp_path, "stance.cv_folds=3", "stance.label_scales=auto",
                          "stance.label_scales_source=null").stance
    model, metrics = train_stage.train(settings, small)
    scales = metrics["label_scales"]
    assert set(scales) == set(LABELS) and metrics["label_scales_tuned_on"] == len(small)
    assert model.get_params()["label_scales"] == scales
    assert metrics["macro_f1"] >= metrics["macro_f1_uncorrected"]  # tuned on the same out-of-fold predictions
    plain = train_stage.build_model(config_for(tmp_path).stance).fit(
        [(e.text, e.target) for e in small], [e.label for e in small])
    probe = [(e.text, e.target) for e in small[:50]]
    from pipeline.stance.model import rescale
    assert np.allclose(model.predict_proba(probe), rescale(plain.predict_proba(probe), LABELS, scales))
    loaded = load_stance(save_stance(model, tmp_path / "scaled"))
    assert loaded.get_params()["label_scales"] == scales
    assert np.array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    fixed = train_stage.build_model(config_for(tmp_path, "stance.label_scales={neutral: 1.5}").stance)
    assert fixed.get_params()["label_scales"] == {"neutral": 1.5}


def test_label_scales_are_validated():
    with pytest.raises(ConfigError, match="label_scales"):
        load_config(CONFIG, ["stance.label_scales={neutral: 0}"])
    with pytest.raises(ConfigError, match="label_scales"):
        load_config(CONFIG, ["stance.label_scales={none: 2}"])
    with pytest.raises(ConfigError, match="label_scales"):
        load_config(CONFIG, ["stance.label_scales=sometimes"])
    with pytest.raises(ValueError, match="label_scales"):
        StanceClassifier(label_scales="auto").fit(["NATO won.", "NATO lost."], ["favor", "against"],
                                                  targets=["NATO", "NATO"])
