"""One error hierarchy for the whole package.

Library code raises these; only the CLI turns them into ``Error: ...`` and an exit code.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class for every error a user can cause and fix."""


class ConfigError(PipelineError):
    """A configuration file, key or value is wrong."""


class InputError(PipelineError):
    """An input path, file or record cannot be used."""


class ArtifactError(PipelineError):
    """A saved artifact is missing, corrupted, tampered with or incompatible."""


class DataError(PipelineError):
    """A stage's input table does not hold what the stage needs."""


class VersionWarning(UserWarning):
    """A saved artifact was built with other library versions than those installed.

    The artifact still loads, but its results may differ from those it gave when it was
    built. Rebuild it (``dvc repro``) to match the environment, or turn the warning into
    an error with ``warnings.simplefilter("error", pipeline.VersionWarning)``.
    """
