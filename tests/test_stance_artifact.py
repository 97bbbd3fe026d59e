"""The stance model directory in the skops format: round trip, hash check, the trusted-type
allow-list, hostile files, and the refusal of version-1 (pickle) directories."""

from __future__ import annotations

import copy
import json
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from pipeline.artifacts import save_artifact
from pipeline.errors import ArtifactError
from pipeline.io import sha256_file
from pipeline.stance.data import read_labels
from pipeline.stance.model import StanceClassifier
from pipeline.stance.storage import MODEL_FILE, TRUSTED_TYPES, load_stance, save_stance
from tests.test_stance import LABELLED, TARGET_NAMES

# ----------------------------------------------------------------------------- helpers


class Payload:
    """A custom class whose loading would leave a trace: a file at ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).write_text("built", encoding="utf-8")
        self.__dict__.update(state)


class MarkerDict(OrderedDict):
    """An ``OrderedDict`` subclass: skops trusts ``OrderedDict`` but not its subclasses."""


class Hostile:
    """A classic hostile pickle: unpickling it calls ``open(marker, "w")``, creating the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def rehash(path: Path) -> None:
    """Make ``meta.json`` match the files as they are now (what a forger with write access would do)."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    meta["files"] = {name: sha256_file(path / name) for name in meta["files"]}
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def replace_model_file(path: Path, data: bytes) -> None:
    (path / MODEL_FILE).write_bytes(data)
    rehash(path)


@pytest.fixture(scope="module")
def small():
    """Every ninth labelled example (all targets and labels, about 90 pairs)."""
    return read_labels(LABELLED, TARGET_NAMES)[::9]


@pytest.fixture(scope="module")
def model(small):
    return StanceClassifier(calibration="sigmoid", calibration_folds=2).fit(
        [(e.text, e.target) for e in small], [e.label for e in small])


@pytest.fixture()
def never_load(monkeypatch):
    """Fail the test if ``skops.io.load`` is called."""
    import skops.io

    def never(*args, **kwargs):
        raise AssertionError("skops.io.load was called on a file that should have been refused")

    monkeypatch.setattr(skops.io, "load", never)


# ----------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", "none"])
def test_round_trip_gives_identical_predictions(small, tmp_path, calibration):
    import skops.io

    pairs = [(e.text, e.target) for e in small]
    fitted = StanceClassifier(calibration=calibration, calibration_folds=2).fit(pairs, [e.label for e in small])
    path = save_stance(fitted, tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    assert meta["format_version"] == 2 and set(meta["files"]) == {MODEL_FILE}
    # the compiled patterns are not saved; what skops does not trust by default is in the allow-list
    assert set(skops.io.get_untrusted_types(file=path / MODEL_FILE)) <= TRUSTED_TYPES

    loaded = load_stance(path)
    assert type(loaded) is StanceClassifier and loaded.calibration_ == fitted.calibration_
    assert loaded.get_params() == fitted.get_params()
    assert loaded.classes_.tolist() == fitted.classes_.tolist()
    assert np.array_equal(loaded.predict_proba(pairs), fitted.predict_proba(pairs))
    assert loaded.predict(pairs).tolist() == fitted.predict(pairs).tolist()
    assert [m.name for m in loaded.matchers_] == TARGET_NAMES
    assert [m.pattern.pattern for m in loaded.matchers_] == [m.pattern.pattern for m in fitted.matchers_]
    texts = [t for t, _ in pairs[:30]] + ["The weather was mild."]
    targets = [g for _, g in pairs[:30]] + ["NATO"]
    before, after = fitted.analyze(texts, targets), loaded.analyze(texts, targets)
    assert after.labels == before.labels and after.evidence == before.evidence
    assert np.array_equal(after.probabilities, before.probabilities, equal_nan=True)
    assert np.array_equal(after.mentions, before.mentions)
    assert loaded.evidence(texts, targets) == fitted.evidence(texts, targets)


def test_saving_does_not_change_the_model(model, small):
    pairs = [(e.text, e.target) for e in small[:20]]
    before = model.predict_proba(pairs)
    assert "matchers_" not in model.__getstate__() and "matchers_" in model.__dict__
    assert np.array_equal(copy.deepcopy(model).predict_proba(pairs), before)


def test_saved_model_file_is_byte_reproducible(model, small, tmp_path):
    # a deep copy has other object ids, which skops would otherwise write into the file
    save_stance(model, tmp_path / "a")
    save_stance(copy.deepcopy(model), tmp_path / "b")
    assert (tmp_path / "a" / MODEL_FILE).read_bytes() == (tmp_path / "b" / MODEL_FILE).read_bytes()
    pairs = [(e.text, e.target) for e in small[:20]]
    assert np.array_equal(load_stance(tmp_path / "b").predict_proba(pairs), model.predict_proba(pairs))


# ----------------------------------------------------------------------------- refusals


def test_tampered_model_file_is_refused_by_its_hash(model, tmp_path, monkeypatch, never_load):
    import skops.io

    path = save_stance(model, tmp_path / "stance")
    data = bytearray((path / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / MODEL_FILE).write_bytes(bytes(data))
    monkeypatch.setattr(skops.io, "get_untrusted_types", lambda **kwargs: pytest.fail("read before hash check"))
    with pytest.raises(ArtifactError, match="model.skops: hash differs from meta.json"):
        load_stance(path)


@pytest.mark.parametrize("hostile", ["custom class", "OrderedDict subclass"])
def test_disallowed_type_is_refused_before_loading(model, tmp_path, never_load, hostile):
    import skops.io

    marker = tmp_path / "built.txt"
    if hostile == "custom class":
        payload, refused = Payload(str(marker)), type_name(Payload)
    else:
        payload, refused = MarkerDict(marker=str(marker)), type_name(MarkerDict)
    forged = copy.copy(model)
    forged.extra_ = payload
    path = save_stance(model, tmp_path / "stance")
    buffer = tmp_path / "forged.skops"
    skops.io.dump(forged, buffer)
    replace_model_file(path, buffer.read_bytes())  # the hashes match: only the type check stands in the way

    with pytest.raises(ArtifactError) as info:
        load_stance(path)
    message = str(info.value)
    assert "holds type(s) a stance model does not use, refusing to load" in message
    assert message.endswith(refused) and "\n" not in message
    assert not marker.exists()


def test_the_custom_class_payload_is_live(model, tmp_path):
    """Control for the test above: skops told to trust the payload does build it."""
    import skops.io

    marker = tmp_path / "built.txt"
    forged = copy.copy(model)
    forged.extra_ = Payload(str(marker))
    skops.io.dump(forged, tmp_path / "forged.skops")
    skops.io.load(tmp_path / "forged.skops", trusted=sorted(TRUSTED_TYPES | {type_name(Payload)}))
    assert marker.exists()


def test_hostile_pickle_renamed_to_model_skops_does_not_run(model, tmp_path, never_load):
    control = tmp_path / "control.txt"
    pickle.loads(pickle.dumps(Hostile(control)))
    assert control.exists()  # the payload is live when unpickled

    marker = tmp_path / "pwned.txt"
    path = save_stance(model, tmp_path / "stance")
    replace_model_file(path, pickle.dumps(Hostile(marker)))
    with pytest.raises(ArtifactError, match=r"model.skops: not a readable skops file \(BadZipFile"):
        load_stance(path)
    assert not marker.exists()


def test_a_skops_file_of_something_else_is_refused(model, tmp_path):
    import skops.io

    path = save_stance(model, tmp_path / "stance")
    buffer = tmp_path / "other.skops"
    skops.io.dump(model.classifier_, buffer)  # trusted by skops, but not a StanceClassifier
    replace_model_file(path, buffer.read_bytes())
    with pytest.raises(ArtifactError, match="does not hold a fitted StanceClassifier"):
        load_stance(path)


def test_version_1_directory_asks_for_a_rebuild(tmp_path, never_load):
    marker = tmp_path / "pwned.txt"

    def write_files(tmp: Path) -> None:
        (tmp / "model.joblib").write_bytes(pickle.dumps(Hostile(marker)))

    path = save_artifact(tmp_path / "stance", "stance", 1, write_files, config={},
                         libraries=("scikit-learn", "numpy"))
    with pytest.raises(ArtifactError) as info:
        load_stance(path)
    message = str(info.value)
    assert message == (f"{path}: stance model of format version 1 (model.joblib, a pickle), which this package "
                       f"no longer loads; rebuild it with `dvc repro train_stance` (or `pipeline train_stance`)")
    assert not marker.exists()


def test_other_format_versions_keep_the_generic_message(model, tmp_path):
    path = save_stance(model, tmp_path / "stance")
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    meta["format_version"] = 3
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"format version 3 is not supported by this package \(supports \[2\]\)"):
        load_stance(path)


#: every feature option of the classifier turned on (none of them adds a type to the file)
ALL_OPTIONS = {"char_ngram_range": (2, 4), "char_scope": "sentences", "lexicon": True, "negation": True,
               "block_weights": {"doc": 0.5, "lexicon": 1.5}, "social_tokens": True, "target_features": True,
               "target_scope": "doc", "per_target": True}


def test_all_feature_options_round_trip_and_reproduce(small, tmp_path):
    import skops.io

    pairs = [(e.text, e.target) for e in small]
    labels = [e.label for e in small]
    fitted = StanceClassifier(calibration_folds=2, **ALL_OPTIONS).fit(pairs, labels)
    path = save_stance(fitted, tmp_path / "a")
    assert set(skops.io.get_untrusted_types(file=path / MODEL_FILE)) <= TRUSTED_TYPES
    loaded = load_stance(path)
    assert loaded.get_params() == fitted.get_params()
    assert np.array_equal(loaded.predict_proba(pairs), fitted.predict_proba(pairs))
    # the same seed and data give the same bytes, from a second, independent fit
    again = StanceClassifier(calibration_folds=2, **ALL_OPTIONS).fit(pairs, labels)
    save_stance(again, tmp_path / "b")
    assert (tmp_path / "a" / MODEL_FILE).read_bytes() == (tmp_path / "b" / MODEL_FILE).read_bytes()


def test_a_model_saved_before_the_feature_options_loads_with_them_off(model, small):
    state = model.__getstate__()
    for name in ("lexicon", "negation", "char_ngram_range", "block_weights", "char_scope", "social_tokens",
                 "target_scope"):
        state.pop(name, None)
    old = StanceClassifier.__new__(StanceClassifier)
    old.__setstate__(state)
    assert old.get_params()["lexicon"] is False and old.get_params()["char_ngram_range"] == (0, 0)
    pairs = [(e.text, e.target) for e in small[:10]]
    assert np.array_equal(old.predict_proba(pairs), model.predict_proba(pairs))
