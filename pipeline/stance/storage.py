"""The stance model directory: saving and safely loading a :class:`~pipeline.stance.model.StanceClassifier`.

Model directory (kind ``"stance"``, format version 2)::

    meta.json       kind, format_version, libraries (scikit-learn, numpy, skops), config
                    ({"stance": the stance section, with the targets}), inputs
                    (training file sha256), files (sha256 of model.skops)
    model.skops     the fitted StanceClassifier in the skops format (a zip of JSON and
                    .npy arrays, no pickle); the compiled target patterns are not
                    saved but rebuilt from ``target_specs_`` when it is loaded

With ``stance.engine: transformer`` the directory also holds the fine-tuned cross-encoder
that refines the classifier's probabilities (``refiner_``, see
:mod:`pipeline.stance.transformer`): ``model.safetensors``, ``config.json``,
``tokenizer.json``, ``tokenizer_config.json`` and ``refiner.json``, all hashed in
``meta.json`` (whose ``engine`` says which it is); it loads as the same class, with the same
methods. Evidence sentences are always chosen by the TF-IDF classifier.

:func:`load_stance` verifies ``meta.json`` and the file hash with
:func:`~pipeline.artifacts.check_artifact`, then lists the types ``model.skops`` would
create that skops does not trust by default (``skops.io.get_untrusted_types``) and
loads it only if every one of them is in :data:`TRUSTED_TYPES`, the few types this
classifier is made of; any other type is refused by name before anything is built.
Format version 1 (``model.joblib``, a pickle) is no longer loaded: rebuild such a
directory with ``dvc repro train_stance`` (or ``pipeline train_stance``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sklearn.utils.validation import check_is_fitted

from ..artifacts import META_FILE, check_artifact, library_mismatches, rebuild_hint, save_artifact
from ..errors import ArtifactError
from .model import StanceClassifier

KIND = "stance"
FORMAT_VERSION = 2
#: format versions that held a pickle (``model.joblib``); refused with a rebuild message
PICKLE_FORMAT_VERSIONS = (1,)
LIBRARIES = ("scikit-learn", "numpy", "skops")
MODEL_FILE = "model.skops"
#: the weights of ``stance.engine: transformer`` (see :mod:`pipeline.stance.transformer`)
TRANSFORMER_FILE = "model.safetensors"
#: libraries recorded in ``meta.json`` as well when the model has a transformer
TRANSFORMER_LIBRARIES = ("torch", "transformers", "tokenizers", "safetensors")

#: The types ``model.skops`` may hold beyond those skops trusts by default (builtin
#: containers and scalars, numpy arrays, dtypes and scalars, scikit-learn's public
#: estimators such as ``TfidfVectorizer``, ``LogisticRegression``,
#: ``CalibratedClassifierCV`` and ``IsotonicRegression``). These are exactly what a
#: fitted :class:`StanceClassifier` is made of, for every ``calibration`` setting;
#: a file holding any other type is refused before anything in it is built.
TRUSTED_TYPES = frozenset({
    # our own classes: the estimator and the analyzer of its TfidfVectorizer
    "pipeline.stance.model.StanceClassifier",
    "pipeline.stance.features.ContextAnalyzer",
    # CalibratedClassifierCV (calibration 'sigmoid' or 'isotonic'): one calibrated
    # classifier per fold, its sigmoid calibrator, and the folds (``cv``)
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
})





#: a fixed timestamp for every zip entry (the zip format's earliest), so equal models give equal bytes
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _renumber_skops_ids(node: Any, numbers: dict[int, int]) -> None:
    """Renumber, in place and in document order, the object ids of a skops ``schema.json`` tree.

    skops marks each saved object with ``"__id__": <id>`` and each array with ``"file": "<id>.npy"``
    (``skops.io``'s documented persistence format); ids become 1, 2, ... by first appearance.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                node[key] = numbers.setdefault(value, len(numbers) + 1)
            elif key == "file" and isinstance(value, str) and value.endswith(".npy") and value[:-4].isdigit():
                node[key] = f"{numbers.setdefault(int(value[:-4]), len(numbers) + 1)}.npy"
            else:
                _renumber_skops_ids(value, numbers)
    elif isinstance(node, list):
        for value in node:
            _renumber_skops_ids(value, numbers)


def canonical_skops(data: bytes) -> bytes:
    """The same skops archive with reproducible bytes.

    skops names objects and array files by ``id()`` (a memory address) and stamps zip
    entries with the current time, so two dumps of the same model differ. This parses
    ``schema.json``, renumbers every id in order of first appearance (a one-to-one map, so the
    references between objects are unchanged), writes it back as skops does (``json.dumps``,
    indent 2), renames the ``<id>.npy`` entries to match and writes every entry, in the
    original order, with a fixed timestamp.
    """
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        state = json.loads(source.read("schema.json"))
        numbers: dict[int, int] = {}
        _renumber_skops_ids(state, numbers)
        schema = json.dumps(state, indent=2).encode()
        del state
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                name = info.filename
                if name == "schema.json":
                    content = schema
                else:
                    stem = name.removesuffix(".npy")
                    if name.endswith(".npy") and stem.isdigit() and int(stem) in numbers:
                        name = f"{numbers[int(stem)]}.npy"
                    content = source.read(info.filename)
                entry = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
                entry.compress_type = info.compress_type
                entry.external_attr = 0o644 << 16
                target.writestr(entry, content, compresslevel=6)
    return out.getvalue()


def save_stance(model: StanceClassifier, path: Path | str, *, config: dict[str, Any] | None = None,
                inputs: dict[str, str] | None = None) -> Path:
    """Save a fitted classifier as a model directory (see the module docstring).

    Parameters
    ----------
    model : StanceClassifier
        A fitted classifier.
    path : path-like
        The directory; replaced atomically if it exists.
    config : dict, optional
        Recorded in ``meta.json``; ``{"stance": section}``. Defaults to the model's
        parameters and targets.
    inputs : dict, optional
        Input file -> sha256, recorded in ``meta.json``.

    Returns
    -------
    Path
        The model directory; its ``meta.json`` records the format version, the package,
        Python and library (scikit-learn, numpy, skops) versions, the config, the input
        hashes, the hash of ``model.skops``, the classes and the targets.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.

    Examples
    --------
    >>> save_stance(model, "models/stance")  # doctest: +SKIP
    PosixPath('models/stance')
    """
    import zipfile

    import skops.io

    check_is_fitted(model, "classifier_")
    if config is None:
        params = {k: v for k, v in model.get_params().items() if k != "targets"}
        params["ngram_range"] = list(params["ngram_range"])
        config = {"stance": {**params, "targets": model.target_specs_}}

    refiner = getattr(model, "refiner_", None)

    def write_files(tmp: Path) -> None:
        # the refiner is saved as its own files (safetensors, JSON), not inside the skops archive
        model.__dict__.pop("refiner_", None)
        try:
            data = skops.io.dumps(model, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        finally:
            if refiner is not None:
                model.refiner_ = refiner
        (tmp / MODEL_FILE).write_bytes(canonical_skops(data))
        if refiner is not None:
            refiner.save(tmp)

    libraries = LIBRARIES if refiner is None else (*LIBRARIES, *TRANSFORMER_LIBRARIES)
    return save_artifact(path, KIND, FORMAT_VERSION, write_files, config=config, inputs=inputs,
                         libraries=libraries, extra={"created_by": "pipeline train_stance",
                                                     "engine": "sklearn" if refiner is None else "transformer",
                                                     "classes": [str(c) for c in model.classes_],
                                                     "targets": list(model.target_names_)})


def _check_stance(path: Path) -> dict[str, Any]:
    """:func:`check_artifact`, with a rebuild message for a directory of the old pickle format."""
    try:
        return check_artifact(path, KIND, [FORMAT_VERSION])
    except ArtifactError:
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            meta = None
        if (isinstance(meta, dict) and meta.get("kind") == KIND
                and meta.get("format_version") in PICKLE_FORMAT_VERSIONS):
            raise ArtifactError(
                f"{path}: stance model of format version {meta['format_version']} (model.joblib, a pickle), "
                f"which this package no longer loads; rebuild it with `dvc repro train_stance` "
                f"(or `pipeline train_stance`)") from None
        raise


def load_stance_artifact(path: Path | str) -> tuple[StanceClassifier, dict[str, Any]]:
    """Load a stance model directory and return ``(model, meta)``; see :func:`load_stance`.

    Parameters
    ----------
    path : path-like
        A directory written by :func:`save_stance`.

    Returns
    -------
    model : StanceClassifier
    meta : dict
        Its ``meta.json``.

    Raises
    ------
    ArtifactError
        See :func:`load_stance`.
    """
    import skops.io

    path = Path(path)
    meta = _check_stance(path)  # hashes are verified before the file is read
    if MODEL_FILE not in meta["files"]:
        raise ArtifactError(f"{path}: meta.json does not list {MODEL_FILE}; not a stance model directory")
    file = path / MODEL_FILE
    try:
        untrusted = skops.io.get_untrusted_types(file=file)
    except Exception as exc:  # not a zip, no schema, unknown node type ...
        raise ArtifactError(f"{file}: not a readable skops file ({type(exc).__name__}: {exc})") from None
    refused = sorted(set(untrusted) - TRUSTED_TYPES)
    if refused:
        raise ArtifactError(f"{file}: holds type(s) a stance model does not use, refusing to load: "
                            f"{', '.join(refused)}")
    try:
        model = skops.io.load(file, trusted=sorted(untrusted))
    except Exception as exc:  # a file from another library version can fail in many ways
        changed = library_mismatches(meta)
        why = ("; it was built with " + ", ".join(f"{lib} {saved} (installed: {now})"
                                                  for lib, (saved, now) in changed.items()) if changed else "")
        raise ArtifactError(f"{file}: cannot load the classifier: {type(exc).__name__}: {exc}{why}; "
                            f"rebuild it with {rebuild_hint(KIND)}") from None
    if not isinstance(model, StanceClassifier) or not hasattr(model, "classifier_"):
        raise ArtifactError(f"{file}: does not hold a fitted StanceClassifier")
    if TRANSFORMER_FILE in meta["files"]:
        from .transformer import FILES, TransformerRefiner

        missing = [name for name in FILES if name not in meta["files"]]
        if missing:
            raise ArtifactError(f"{path}: meta.json lists {TRANSFORMER_FILE} but not {', '.join(missing)}; "
                                f"rebuild it with {rebuild_hint(KIND)}")
        model.refiner_ = TransformerRefiner.load(path)
    saved = (meta.get("config") or {}).get("stance", {}).get("targets")
    if saved is not None and [t.get("name") for t in saved] != list(model.target_names_):
        raise ArtifactError(f"{path}: meta.json targets differ from the classifier's; rebuild it with train_stance")
    return model, meta


def load_stance(path: Path | str = "models/stance") -> StanceClassifier:
    """Load a stance model directory after checking it.

    Parameters
    ----------
    path : path-like, default "models/stance"
        A directory written by the ``train_stance`` stage or :func:`save_stance`.

    Returns
    -------
    StanceClassifier
        A fitted classifier: ``classes_``, ``predict(texts, targets)``,
        ``predict_proba(texts, targets)``, ``analyze(texts, targets)``.

    Raises
    ------
    ArtifactError
        If the directory, ``meta.json`` or the model file is missing, of the wrong kind or
        format version (a version-1 directory, a pickle, must be rebuilt: the message
        says how), a file's hash differs from ``meta.json``, or ``model.skops`` holds a
        type outside :data:`TRUSTED_TYPES` (all checked before anything is loaded), or
        skops cannot rebuild the classifier (the message names the library versions
        that changed and how to rebuild it).

    Warns
    -----
    VersionWarning
        When scikit-learn, numpy or skops differ from the versions recorded in
        ``meta.json``; the model loads, but its probabilities may differ.

    Examples
    --------
    >>> from pipeline.stance.model import load_stance
    >>> model = load_stance("models/stance")  # doctest: +SKIP
    >>> model.predict(["NATO ignored Russia's concerns."], ["NATO"])  # doctest: +SKIP
    array(['against'], dtype=object)
    """
    return load_stance_artifact(path)[0]
