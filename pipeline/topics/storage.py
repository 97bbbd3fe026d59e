"""Saving and loading :class:`~pipeline.topics.estimator.TopicModel` directories, and their format version.

The directory format (JSON plus ``.npy`` arrays, checked against ``meta.json`` by
:mod:`pipeline.artifacts`) is described in :mod:`pipeline.topics`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..artifacts import check_artifact, save_artifact
from ..errors import ArtifactError
from ..io import write_json
from .inference import GAMMA_THRESHOLD
from .preprocess import Preprocessor

if TYPE_CHECKING:
    from .estimator import TopicModel

# the public module's name, so log lines read as before the split
log = logging.getLogger("pipeline.topics.model")

KIND = "topics"
FORMAT_VERSION = 1
#: format versions :func:`load_topics` reads
SUPPORTED_FORMAT_VERSIONS = (1,)
#: libraries whose versions ``meta.json`` records (and loading checks); ``simplemma`` too with ``lemmatize``
LIBRARIES = ["gensim", "numpy", "scipy", "tomotopy"]
#: constructor arguments added after format version 1 came out, with the value a model
#: saved without them was fitted with (before ``engine`` existed, gensim fitted every model);
#: the others were added with a default that matches what older models did
_LEGACY_PARAMS = {"engine": "gensim"}

FILES = {
    "params": "params.json",
    "preprocessing": "preprocessing.json",
    "vocabulary": "vocabulary.json",
    "components": "components.npy",
    "alpha": "alpha.npy",
    "eta": "eta.npy",
}


class TopicStorage:
    """The save/load half of :class:`~pipeline.topics.estimator.TopicModel`."""

    def save(self, path: Path | str, *, config: dict[str, Any] | None = None,
             inputs: dict[str, str] | None = None) -> Path:
        """Write the model directory (see :mod:`pipeline.topics` for the format), atomically.

        Parameters
        ----------
        path : path-like
            The directory; replaced as a whole if it exists.
        config : dict, optional
            Recorded in ``meta.json`` (the ``topics`` stage passes ``{"topics": section}``);
            defaults to ``{"params": constructor arguments}``.
        inputs : dict, optional
            Input file -> SHA-256, recorded in ``meta.json``.

        Returns
        -------
        Path
            The directory. Its ``meta.json`` records the format version, the package,
            Python and library (gensim, numpy, scipy, tomotopy; simplemma with
            ``lemmatize``) versions, ``config``, ``inputs`` and the SHA-256 of every file.

        Examples
        --------
        >>> model.save("models/topics")  # doctest: +SKIP
        PosixPath('models/topics')
        >>> load_topics("models/topics").vocabulary_ == model.vocabulary_  # doctest: +SKIP
        True
        """
        check_is_fitted(self, "components_")
        params = self.get_params()
        params["stopwords_extra"] = list(params["stopwords_extra"])
        params["seed_words"] = [list(ws) for ws in params["seed_words"]]

        def write_files(tmp: Path) -> None:
            write_json(tmp / FILES["params"], {"params": params, "num_topics": int(self.components_.shape[0]),
                                               "gamma_threshold": GAMMA_THRESHOLD,
                                               "n_documents": int(self.n_documents_),
                                               "seed_words_missing": list(self.seed_words_missing_)})
            write_json(tmp / FILES["preprocessing"], self.preprocessor_.to_dict())
            write_json(tmp / FILES["vocabulary"], {"words": self.vocabulary_,
                                                   "document_frequencies": self.document_frequencies_.tolist()})
            np.save(tmp / FILES["components"], self.components_, allow_pickle=False)
            np.save(tmp / FILES["alpha"], self.alpha_, allow_pickle=False)
            np.save(tmp / FILES["eta"], self.eta_, allow_pickle=False)

        libraries = [*LIBRARIES, "simplemma"] if self.preprocessor_.lemmatize else LIBRARIES
        return save_artifact(path, KIND, FORMAT_VERSION, write_files, config=config or {"params": params},
                             inputs=inputs, libraries=libraries, extra={"created_by": "pipeline topics"})

    @classmethod
    def load(cls, path: Path | str) -> TopicModel:
        """Load a model directory after :func:`~pipeline.artifacts.check_artifact` accepts it.

        Parameters
        ----------
        path : path-like
            A directory written by :meth:`save`.

        Returns
        -------
        TopicModel
            The fitted model, without the engine's native model (``lda_`` and
            ``dictionary_`` are None): everything :meth:`transform` needs is in the files.

        Raises
        ------
        ArtifactError
            See :func:`load_topics`.

        Warns
        -----
        VersionWarning
            When a library version recorded in ``meta.json`` differs from the installed one.

        Examples
        --------
        >>> model = TopicModel.load("models/topics")  # doctest: +SKIP
        """
        return cls._load_with_meta(path)[0]

    @classmethod
    def _load_with_meta(cls, path: Path | str) -> tuple[TopicModel, dict[str, Any]]:
        path = Path(path)
        meta = check_artifact(path, KIND, SUPPORTED_FORMAT_VERSIONS)
        try:
            params_doc = json.loads((path / FILES["params"]).read_text(encoding="utf-8"))
            params = params_doc["params"]
            known = set(cls._get_param_names())
            if not isinstance(params, dict) or set(params) - known:
                raise ValueError(f"unknown parameters {sorted(set(params) - known)}")
            params = {**_LEGACY_PARAMS, **params}
            model = cls(**params)
            model._check_params()
            model.preprocessor_ = Preprocessor.from_dict(
                json.loads((path / FILES["preprocessing"]).read_text(encoding="utf-8")))
            vocab = json.loads((path / FILES["vocabulary"]).read_text(encoding="utf-8"))
            model.vocabulary_ = list(vocab["words"])
            model.document_frequencies_ = np.asarray(vocab["document_frequencies"], dtype=np.int64)
            model.components_ = np.load(path / FILES["components"], allow_pickle=False)
            model.alpha_ = np.load(path / FILES["alpha"], allow_pickle=False)
            model.eta_ = np.load(path / FILES["eta"], allow_pickle=False)
            model.n_documents_ = int(params_doc.get("n_documents", 0))
            model.seed_words_missing_ = [str(w) for w in params_doc.get("seed_words_missing", [])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{path}: malformed topic model: {exc}") from None
        k, v = model.num_topics, len(model.vocabulary_)
        problems = []
        if model.components_.shape != (k, v) or model.components_.dtype != np.float64:
            problems.append(f"components shape {model.components_.shape}, expected {(k, v)}")
        elif not (np.isfinite(model.components_).all() and (model.components_ > 0).all()):
            problems.append("components must be finite and positive")
        if model.alpha_.shape != (k,) or not (np.isfinite(model.alpha_).all() and (model.alpha_ > 0).all()):
            problems.append(f"alpha must be {k} positive numbers")
        if model.document_frequencies_.shape != (v,) or len(set(model.vocabulary_)) != v:
            problems.append("vocabulary words must be unique and match document_frequencies")
        if problems:
            raise ArtifactError(f"{path}: malformed topic model: {'; '.join(problems)}")
        model.lda_ = None
        model.dictionary_ = None
        model._reset_cache()
        log.debug("loaded topic model %s: %d topics, %d words", path, k, v)
        return model, meta
