"""The saved models as one object for downstream code: ``pipeline.load("models")``.

::

    import pipeline
    bundle = pipeline.load("models")
    bundle.topics(["NATO expansion ignored our warnings."])        # (1, K), rows sum to 1
    bundle.stance(["NATO ignored Russia's concerns."], ["NATO"])
    # [{"label": "against", "probabilities": {"against": ..., "favor": ..., "neutral": ...},
    #   "evidence": "NATO ignored Russia's concerns."}]

Each model directory under ``models_dir`` (``topics/``, ``stance/``) is checked and loaded
by :func:`load`; a directory that is absent makes only the method that needs it fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ArtifactError, InputError

TOPICS_DIR = "topics"
STANCE_DIR = "stance"


class Bundle:
    """Topic and stance models loaded together; build it with :func:`load`.

    Attributes
    ----------
    models_dir : Path
    targets : list of str
        Target names the stance model knows (from its saved config); empty without one.
    """

    def __init__(self, models_dir: Path, topics_model: Any | None, stance_model: Any | None,
                 stance_meta: dict[str, Any] | None) -> None:
        self.models_dir = models_dir
        self._topics = topics_model
        self._stance = stance_model
        saved = ((stance_meta or {}).get("config") or {}).get("stance", {}).get("targets")
        if stance_model is None:
            self.targets: list[str] = []
        elif saved is not None:
            self.targets = [t["name"] for t in saved]
        else:
            self.targets = list(stance_model.target_names_)

    def __repr__(self) -> str:
        parts = [p for p, m in ((TOPICS_DIR, self._topics), (STANCE_DIR, self._stance)) if m is not None]
        return f"Bundle({str(self.models_dir)!r}, models={parts}, targets={self.targets})"

    def _missing(self, name: str) -> ArtifactError:
        return ArtifactError(f"{self.models_dir / name}: model directory not found (run `dvc repro` to build it)")

    def topics(self, texts: Sequence[str]) -> Any:
        """Topic distribution of each text: array ``(n_texts, K)``, rows sum to 1."""
        if self._topics is None:
            raise self._missing(TOPICS_DIR)
        return self._topics.transform(texts)

    def stance(self, texts: Sequence[str], targets: Sequence[str] | str) -> list[dict[str, Any]]:
        """Stance of each text toward its target.

        Parameters
        ----------
        texts : sequence of str
        targets : sequence of str, or str
            Target names parallel to ``texts`` (one name applies to every text); each must
            be in :attr:`targets`.

        Returns
        -------
        list of dict
            ``{"label", "probabilities", "evidence"}`` per text. ``label`` is ``favor``,
            ``against``, ``neutral``, or ``none`` when the text does not mention the target;
            ``probabilities`` maps each of the three labels to its probability, and is
            None for ``none``; ``evidence`` is the sentence that carries the stance
            (``""`` for ``none``).
        """
        if self._stance is None:
            raise self._missing(STANCE_DIR)
        if isinstance(texts, str):
            raise InputError("bundle.stance: texts must be a list of strings, got a single string")
        texts = list(texts)
        names = [targets] * len(texts) if isinstance(targets, str) else list(targets)
        if len(names) != len(texts):
            raise InputError(f"bundle.stance: targets must be parallel to texts, got {len(names)} targets "
                             f"for {len(texts)} texts")
        unknown = sorted({n for n in names if n not in self.targets})
        if unknown:
            raise InputError(f"bundle.stance: unknown target(s) {', '.join(map(repr, unknown))}; "
                             f"the model knows {', '.join(self.targets)}")
        from .stance.model import LABELS, NONE_LABEL

        result = self._stance.analyze(texts, names)
        out = []
        for label, row, evidence in zip(result.labels, result.probabilities, result.evidence, strict=True):
            probabilities = None if label == NONE_LABEL else {k: float(p) for k, p in zip(LABELS, row, strict=True)}
            out.append({"label": label, "probabilities": probabilities, "evidence": evidence})
        return out


def load(models_dir: Path | str = "models") -> Bundle:
    """Load and check the model directories under ``models_dir``.

    Raises
    ------
    ArtifactError
        If ``models_dir`` holds neither ``topics/`` nor ``stance/``, or a model directory
        that is there fails its checks (see :func:`pipeline.artifacts.check_artifact`).
    """
    models_dir = Path(models_dir)
    topics_path, stance_path = models_dir / TOPICS_DIR, models_dir / STANCE_DIR
    if not topics_path.exists() and not stance_path.exists():
        raise ArtifactError(f"{models_dir}: no {TOPICS_DIR}/ or {STANCE_DIR}/ model directory "
                            f"(run `dvc repro` to build them)")
    topics_model = None
    if topics_path.exists():
        from .topics import load_topics

        topics_model = load_topics(topics_path)
    stance_model, stance_meta = None, None
    if stance_path.exists():
        from .stance.model import load_stance_artifact

        stance_model, stance_meta = load_stance_artifact(stance_path)
    return Bundle(models_dir, topics_model, stance_model, stance_meta)
