"""Experiments from override files: ``pipeline exp configs/experiments/FILE.yaml ...``.

An override file is a partial config (same sections and keys as ``configs/default.yaml``).
For each file the command

1. merges it into the base config and validates the result exactly like the default
   (an unknown key or a bad value is one ``Error:`` line naming the file and the key);
2. turns every key it sets into a DVC ``-S configs/default.yaml:KEY=VALUE`` override; and
3. runs ``dvc exp run -n NAME -S ...`` (NAME: the file's stem), so ``dvc exp show`` lists
   each experiment's parameters and metrics beside the baseline.

Between experiments (and at the end, unless ``--keep``) the base config and ``dvc.lock``
are put back as they were and ``dvc checkout`` restores the baseline outputs, so one
experiment's settings never leak into the next and the work tree ends where it started.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .config import DEFAULT_CONFIG, read_yaml_mapping, validate
from .errors import ConfigError, PipelineError

log = logging.getLogger(__name__)

#: Config keys naming an input file or folder that must exist before a run.
INPUT_KEYS = ("chunk.input", "stance.train")


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base`` (mappings merge, other values replace)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def leaves(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys and values of every non-mapping value, in file order."""
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            items.extend(leaves(value, dotted + "."))
        else:
            items.append((dotted, value))
    return items


def hydra_value(value: Any) -> str:
    """A value in the override grammar that DVC's ``-S`` parses (Hydra's)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        if value.endswith("\\"):
            raise ConfigError(f"value {value!r} ends with a backslash, which `dvc exp run -S` cannot pass")
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {hydra_value(v)}" for k, v in value.items()) + "}"
    raise ConfigError(f"cannot pass a {type(value).__name__} value to `dvc exp run -S`")


def load_experiment(path: Path | str, base: Path | str = DEFAULT_CONFIG) -> list[str]:
    """Validate one override file against ``base``; return its ``KEY=VALUE`` overrides.

    Parameters
    ----------
    path : path-like
        The override file (a partial config).
    base : path-like
        The config the experiment changes (the file DVC tracks as parameters).

    Returns
    -------
    list of str
        ``KEY=VALUE`` items in DVC's ``-S`` grammar, one per key the file sets.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, empty, or sets an unknown key or a bad value.
    """
    path, base = Path(path), Path(base)
    override = read_yaml_mapping(path)
    if not override:
        raise ConfigError(f"{path}: sets no parameters")
    config = validate(merge(read_yaml_mapping(base), override), str(path))
    flat = dict(leaves(config.model_dump(mode="json")))
    for key in INPUT_KEYS:
        section, name = key.split(".")
        if name in override.get(section, {}) and not Path(flat[key]).exists():
            raise ConfigError(f"{path}: {key}: {flat[key]} does not exist")
    return [f"{key}={hydra_value(value)}" for key, value in leaves(override)]


def _run(cmd: list[str], *, check: bool = True) -> int:
    env = dict(os.environ)
    # Stages call `python -m pipeline`: the interpreter running this command goes first on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log.info("$ %s", " ".join(cmd))
    code = subprocess.call(cmd, env=env)
    if check and code != 0:
        raise PipelineError(f"`dvc {' '.join(cmd[3:5])}` failed with exit code {code} (DVC's message is above)")
    return code


def run_experiments(files: list[str], *, base: Path | str = DEFAULT_CONFIG, name: str | None = None,
                    keep: bool = False, force: bool = False, dry_run: bool = False, dvc_args: list[str] | None = None) -> list[list[str]]:
    """Run one DVC experiment per override file (see the module docstring); return the commands."""
    if name and len(files) > 1:
        raise ConfigError("--name needs exactly one override file")
    base = Path(base)
    commands = []
    for file in files:  # validate every file before running any
        overrides = load_experiment(file, base)
        cmd = [sys.executable, "-m", "dvc", "exp", "run", "-n", name or Path(file).stem] + (["-f"] if force else [])
        for item in overrides:
            cmd += ["-S", f"{base.as_posix()}:{item}"]
        commands.append(cmd + list(dvc_args or []))
    if dry_run:
        return commands
    lock = Path("dvc.lock")
    saved = {p: p.read_bytes() for p in (base, lock) if p.exists()}
    try:
        for i, cmd in enumerate(commands):
            if i:
                for p, data in saved.items():
                    p.write_bytes(data)
            _run(cmd)
    finally:
        if not keep:
            for p, data in saved.items():
                p.write_bytes(data)
            if _run([sys.executable, "-m", "dvc", "checkout", "--quiet"], check=False):
                log.warning("`dvc checkout` could not restore every baseline output; run `dvc repro`")
    if not keep:
        log.info("work tree back at the baseline; compare with `dvc exp show`, keep one with `dvc exp apply NAME`")
    return commands
