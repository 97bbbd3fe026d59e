"""Who does what to whom: role features, the CheckList cases, the real training and development data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import DEFAULT_TARGETS, Config
from pipeline.errors import InputError
from pipeline.stance import checklist
from pipeline.stance.data import read_labels, read_training, training_files
from pipeline.stance.roles import role_features
from pipeline.stance.targets import compile_targets
from pipeline.stance.train import build_model, fit_model

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "data" / "labels" / "train"
DEV = ROOT / "data" / "labels" / "dev" / "ungdc_dev.jsonl"
NAMES = [t.name for t in DEFAULT_TARGETS]
EVALUATION_SESSIONS = {76, 77, 78}


def roles(sentence: str | tuple[str, ...]) -> list[str]:
    out: list[str] = []
    role_features(sentence.split() if isinstance(sentence, str) else sentence, "xxtarget", "xxother", out)
    return out


# ------------------------------------------------------------------------------ role features


@pytest.mark.parametrize(("sentence", "expected"), [
    ("we condemn xxother s aggression against xxtarget", {"R:patient:hostile", "R:patient:hostile:other"}),
    ("we condemn xxtarget s aggression against xxother", {"R:agent:hostile", "R:object:attitude"}),
    ("xxtarget invaded xxother in flagrant violation of the charter", {"R:agent:hostile"}),
    ("xxtarget was attacked by xxother", {"R:patient:hostile", "R:patient:hostile:other"}),
    ("the attacks launched by xxtarget on civilians", {"R:agent:hostile"}),
    ("we stand in solidarity with xxtarget", {"R:patient:coop"}),
    ("xxtarget s generous assistance to our people", {"R:agent:coop"}),
    ("we reject the baseless accusations that xxother keeps making against xxtarget",
     {"R:claim:rejected"}),
    ("the so called threat from xxtarget", {"R:claim:rejected"}),
    ("we reject the baseless accusations that xxtarget keeps making against xxother", {"R:claimant:rejected"}),
    ("the so called threat is a myth invented by xxtarget", {"R:claimant:rejected"}),
    ("we condemn the attack on xxtarget", {"R:patient:hostile"}),
    ("we condemn the aggression of xxtarget against xxother", {"R:agent:hostile"}),
    ("the occupation of xxtarget violates international law", {"R:patient:hostile"}),
    ("the government of xxtarget violates international law", {"R:agent:hostile"}),
    ("while xxtarget has brought us nothing but hardship", {"R:agent:hostile"}),
    ("we condemn the aggression of xxother against xxtarget", {"R:patient:hostile", "R:patient:hostile:other"}),
    ("the expansion of xxtarget threatens our security", {"R:agent:hostile"}),
    ("the invasion of xxtarget must end", {"R:patient:hostile"}),
    ("xxtarget is the victim of a campaign of lies orchestrated by xxother", {"R:patient:hostile"}),
    ("we warned xxtarget about the risks", {"R:object:attitude"}),
    ("the war waged by xxother against xxtarget", {"R:patient:hostile", "R:patient:hostile:other"}),
    ("by invading eastern xxtarget they broke the agreements", {"R:patient:hostile"}),
    ("xxtarget children are deported to camps", {"R:patient:hostile"}),
    ("xxtarget has never threatened xxother", set()),
    ("the so called threat of xxtarget enlargement as a pretext for invading a neighbour", {"R:claim:rejected"}),
    ("we reject the fable that xxtarget meddled in the elections", {"R:claim:rejected"}),
    ("xxtarget was hit with a trade boycott by xxother", {"R:patient:hostile", "R:patient:hostile:other"}),
    ("the double standards of xxtarget", set()),
    ("an investigation into xxtarget s conduct", set()),
    ("the talks were held in the capital of xxtarget last year", set()),
    # a demand on the target alone implies it does wrong; a call on several parties or for help does not
    ("we call on xxtarget to withdraw its troops from the region", {"R:object:demand"}),
    ("we demand that xxtarget immediately release the prisoners", {"R:object:demand"}),
    ("we call upon the xxtarget to lift the embargo", {"R:object:demand"}),
    ("we call on xxtarget and xxother to end the fighting", set()),
    ("we appeal to xxtarget to support our recovery", set()),
    ("we call on xxtarget to join the talks", set()),
    ("we call on xxtarget to endorse the declaration", set()),  # "end" is not a prefix of "endorse"
])
def test_role_features_name_the_targets_role(sentence, expected):
    assert set(roles(sentence)) == expected
    assert set(roles(tuple(sentence.split()))) == expected  # the analyzer passes sentences as tuples


def test_role_features_without_a_mention_are_empty():
    assert roles("we condemn the aggression against xxother") == []


def test_roles_flip_with_the_roles_of_a_mirrored_sentence():
    # the same words toward the two targets: opposite roles
    assert "R:agent:hostile" in roles("xxtarget s occupation of xxother s territory")
    assert "R:patient:hostile" in roles("xxother s occupation of xxtarget s territory")


def test_roles_reach_the_model_as_features():
    model = build_model(Config().stance)
    pairs = [("We condemn Russia's aggression against Ukraine.", "Ukraine"), ("NATO met in June.", "NATO"),
             ("Russia invaded Ukraine.", "Russia")]
    model.fit(pairs * 4, ["favor", "neutral", "against"] * 4)
    vocabulary = model.vectorizer_.vocabulary_
    assert {"R:patient:hostile", "R:patient:hostile:other", "R:agent:hostile"} <= set(vocabulary)
    off = build_model(Config().stance.model_copy(update={"roles": False})).fit(pairs * 4,
                                                                              ["favor", "neutral", "against"] * 4)
    assert not any(f.startswith("R:") for f in off.vectorizer_.vocabulary_)


# ------------------------------------------------------------------------------ CheckList


def test_hostile_cues_of_a_victims_sentence_form_their_own_block():
    # "We condemn Russia's aggression against Ukraine": the hostile words are sympathy toward Ukraine, so
    # Ukraine's view also has them as victim cues (L:v:); Russia's view, the doer's, does not
    model = build_model(Config().stance)
    pairs = [("We condemn Russia's aggression against Ukraine.", "Ukraine"),
             ("We condemn Russia's aggression against Ukraine.", "Russia"), ("NATO met in June.", "NATO")]
    model.fit(pairs * 4, ["favor", "against", "neutral"] * 4)
    analyze = model.vectorizer_.build_analyzer()
    victim, doer = (analyze(view) for view in model._views([pairs[0][0]] * 2, ["Ukraine", "Russia"]))
    assert "L:v:hostile" in victim and "L:s:hostile" in victim
    assert "L:v:hostile" not in doer and "L:s:hostile" in doer


def test_checklist_cases_are_deterministic_and_cover_every_pair():
    first = checklist.build_cases(NAMES)
    assert first == checklist.build_cases(NAMES)
    pairs = len(NAMES) * (len(NAMES) - 1)
    mft = [c for c in first if c.kind == "mft" and not c.pattern.startswith("basic_")]
    assert len(mft) == 2 * pairs * len(checklist.PAIR_PATTERNS)
    aggression = [c for c in mft if c.pattern == "aggression" and c.text.startswith("We condemn Russia's")]
    assert {(c.target, c.expected) for c in aggression if "Ukraine" in c.text} == {("Russia", "against"),
                                                                                  ("Ukraine", "favor")}
    assert {c.kind for c in first} == {"mft", "inv", "dir"}
    inv = [c for c in first if c.kind == "inv"]
    assert all(c.base != c.text for c in inv)
    assert all(c.text.startswith(c.base) for c in first if c.kind == "dir")


def test_checklist_skips_targets_without_a_surface_form():
    assert checklist.build_cases(["Atlantis"]) == []
    assert {c.target for c in checklist.build_cases(["NATO", "Atlantis"])} == {"NATO"}


def test_checklist_scoring_counts_each_kind_by_its_rule():
    cases = [
        checklist.Case("mft", "p", "a", "NATO", expected="favor", role="victim"),
        checklist.Case("mft", "p", "b", "NATO", expected="against", role="aggressor"),
        checklist.Case("inv", "change_year", "c", "NATO", base="c0"),
        checklist.Case("dir", "add_condemnation", "d", "NATO", base="d0", watch="favor"),
    ]
    classes = ["against", "favor", "neutral"]
    proba = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2], [0.1, 0.5, 0.4]])
    base = np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.1, 0.4, 0.5]])
    result = checklist.score_cases(cases, classes, proba, base)
    assert result["mft"]["rate"] == 0.5
    assert result["mft"]["by_role"] == {"aggressor": 0.0, "victim": 1.0}
    assert result["inv"]["rate"] == 0.0  # favor -> against when only the year changed
    assert result["dir"]["rate"] == 0.0  # favor rose from 0.4 to 0.5 after a condemnation
    assert len(result["failures"]) == 3


@pytest.fixture(scope="module")
def default_model():
    """The default design trained on the committed training data (what ``dvc repro`` trains)."""
    examples = read_training(TRAIN, NAMES)
    return fit_model(Config().stance, examples)


#: a pinned, deterministic subset of the CheckList that the default model must pass
PINNED = [
    ("We condemn Russia's aggression against Ukraine.", "Russia", "against"),
    ("We condemn Russia's aggression against Ukraine.", "Ukraine", "favor"),
    ("Russia invaded Ukraine in flagrant violation of international law.", "Russia", "against"),
    ("Our country stands in full solidarity with Ukraine in the face of the attacks launched by Russia.",
     "Ukraine", "favor"),
    ("Our country stands in full solidarity with Ukraine in the face of the attacks launched by Russia.",
     "Russia", "against"),
    ("We reject the baseless accusations that NATO keeps making against China.", "NATO", "against"),
    ("We are grateful to the European Union for its generous help, while Russia has brought us nothing "
     "but hardship.", "European Union", "favor"),
    ("We thank China for its steadfast support and its generous assistance to our people.", "China", "favor"),
    ("We strongly condemn the United States for its reckless and destructive policies.", "United States",
     "against"),
    ("The delegation of NATO arrived in Geneva on Monday for the scheduled talks.", "NATO", "neutral"),
]


@pytest.mark.slow
def test_default_model_passes_the_pinned_checklist_subset(default_model):
    texts, targets, expected = zip(*PINNED, strict=True)
    assert list(default_model.predict(list(texts), list(targets))) == list(expected)


@pytest.mark.slow
def test_default_model_checklist_rates(default_model):
    result = checklist.run_checklist(default_model)
    assert result["inv"]["rate"] >= 0.95
    assert result["mft"]["by_role"]["aggressor"] >= 0.9
    assert result["mft"]["by_pattern"]["basic_praise"] == 1.0
    assert result["mft"]["by_pattern"]["basic_condemnation"] == 1.0


# ------------------------------------------------------------------------------ training and development data


def test_training_folder_reads_every_file_in_name_order(tmp_path):
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "NATO won.", "target": "NATO", "label": "favor"}) + "\n")
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "NATO lost.", "target": "NATO", "label": "against"}) + "\n")
    (tmp_path / "notes.md").write_text("not data")
    assert [p.name for p in training_files(tmp_path)] == ["a.jsonl", "b.jsonl"]
    assert [e.label for e in read_training(tmp_path, NAMES)] == ["against", "favor"]


def test_training_folder_without_jsonl_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"holds no \*\.jsonl file"):
        read_training(tmp_path, NAMES)
    with pytest.raises(InputError, match="not found"):
        read_training(tmp_path / "missing", NAMES)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _real_training() -> list[dict]:
    """Every real UN item of the training folder (the ``ungdc*.jsonl`` files)."""
    return [row for path in sorted(TRAIN.glob("ungdc*.jsonl")) for row in _records(path)]


def test_real_training_data_is_traceable_and_outside_the_evaluation_split():
    rows = _real_training()
    assert len(rows) >= 4000
    for row in rows:
        assert row["session"] not in EVALUATION_SESSIONS
        assert row["source"] == f"ungdc:{row['session']}:{row['country']}:{row['para']}"
        assert hashlib.sha256(row["text"].encode("utf-8")).hexdigest()[:16] == row["sha256_16"]
        assert row["paragraphs"] in ("lines", "chunker")
    assert len({(r["source"], r["target"]) for r in rows}) == len(rows)
    counts = {name: {label: 0 for label in ("favor", "against", "neutral")} for name in NAMES}
    for row in rows:
        counts[row["target"]][row["label"]] += 1
    for name, row in counts.items():
        assert min(row.values()) >= 20, (name, row)


def test_development_set_never_shares_a_speech_with_training():
    train = _real_training()
    dev = _records(DEV)
    assert len(dev) >= 600
    train_speeches = {(r["session"], r["country"]) for r in train}
    assert not {(r["session"], r["country"]) for r in dev} & train_speeches
    assert not {r["text"] for r in dev} & {r["text"] for r in train}
    assert {r["session"] for r in dev} <= {69, 75, 79}
    assert not {r["session"] for r in train} & {69, 75}  # the 2014 and 2020 development slices stay unseen


def test_contrast_sets_are_well_formed_and_apart():
    """benchmarks/data/contrast_*.jsonl: written contrast items for benchmarks/stance_contrast.py."""
    matchers = compile_targets(DEFAULT_TARGETS)
    halves = {name: _records(ROOT / "benchmarks" / "data" / f"contrast_{name}.jsonl") for name in ("dev", "heldout")}
    for rows in halves.values():
        assert len(rows) >= 80
        assert len({r["id"] for r in rows}) == len(rows)
        for row in rows:
            assert row["label"] in ("favor", "against", "neutral") and row["target"] in NAMES
            assert matchers[row["target"]].mentions(row["text"]), row["id"]
        assert {r["label"] for r in rows} == {"favor", "against", "neutral"}
    assert not {r["text"] for r in halves["dev"]} & {r["text"] for r in halves["heldout"]}


def test_every_labelled_item_mentions_its_target_with_the_default_aliases():
    matchers = compile_targets(DEFAULT_TARGETS)
    for path in [*training_files(TRAIN), DEV]:
        for example in read_labels(path, NAMES):
            assert matchers[example.target].mentions(example.text), (path.name, example.line)


def test_adjudicated_double_annotations_are_the_committed_labels():
    committed = {}
    for path in (*sorted(TRAIN.glob("ungdc*.jsonl")), DEV):
        for row in _records(path):
            committed[(row["source"], row["target"])] = row
    rows = _records(ROOT / "data" / "labels" / "agreement" / "double_annotation.jsonl")
    assert len(rows) >= 300
    checked = 0
    for row in rows:
        item = committed.get((row["source"], row["target"]))
        if item is None:  # a false friend (final "skip") or no longer a mention under the default aliases
            continue
        assert item["label"] == row["final"], row
        assert item["annotation"].startswith("double")
        checked += 1
    assert checked >= 0.9 * len(rows)
