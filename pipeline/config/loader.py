"""Loading the configuration: a YAML file, ``--set KEY=VALUE`` overrides, validation into
:class:`~pipeline.config.schema.Config` with one-line errors that name the key.

The YAML file is parsed once, at the edge; nothing deeper in the package reads raw dicts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ConfigError
from .schema import Config

DEFAULT_CONFIG = Path("configs/default.yaml")


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_error(err: dict[str, Any], prefix: str) -> str:
    key = ".".join(str(p) for p in err["loc"])
    key = f"{prefix}{key}" if key else prefix.rstrip(".") or "config"
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = err["loc"][:-1]
        model: Any = Config
        for part in parent:
            field = model.model_fields.get(str(part)) if hasattr(model, "model_fields") else None
            if field is None:
                model = None
                break
            model = field.annotation
            if getattr(model, "__origin__", None) is list:
                model = model.__args__[0]
        known = ", ".join(sorted(model.model_fields)) if hasattr(model, "model_fields") else ""
        hint = f" (known keys here: {known})" if known else ""
        return f"{key}: unknown key{hint}"
    message = err["msg"]
    message = message[0].lower() + message[1:] if message else message
    message = message.removeprefix("value error, ")
    got = err.get("input")
    if kind == "missing":
        return f"{key}: required key is missing"
    return f"{key}: {message}, got {_describe(got)}"


def _parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. topics.num_topics=20")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_override(data: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set a dotted key in a nested mapping, creating sections as needed."""
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"{'.'.join(parts[: i + 1])}: is not a section, cannot set {'.'.join(parts)}")
        node = child
    node[parts[-1]] = value


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; errors name the file."""
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{where} not valid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top, got {type(data).__name__}")
    return data


def validate(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a raw mapping into a :class:`Config`; errors name every bad key."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = [_format_error(e, "") for e in exc.errors()]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{source}: {problems[0]}{more}" + "".join(f"; {p}" for p in problems[1:3])) from None


def load_config(path: Path | str = DEFAULT_CONFIG, overrides: list[str] | None = None) -> Config:
    """Load, override and validate the configuration.

    Parameters
    ----------
    path : path-like
        YAML file with one section per stage.
    overrides : list of str, optional
        ``KEY=VALUE`` items with dotted keys (``topics.num_topics=20``); values are YAML.

    Returns
    -------
    Config
        The validated configuration.

    Raises
    ------
    ConfigError
        When the file is missing or not YAML, or a key or value is invalid.
    """
    path = Path(path)
    data = read_yaml_mapping(path)
    for item in overrides or []:
        parts, value = _parse_override(item)
        apply_override(data, parts, value)
    return validate(data, str(path))


def config_to_dict(config: Config) -> dict[str, Any]:
    """Plain JSON-able form of a config, for ``meta.json`` files."""
    return config.model_dump(mode="json")


def check(config: Config) -> None:
    """The ``check`` verb: the config has already been validated by loading it."""
    import logging

    logging.getLogger("pipeline").info(
        "config OK: %d targets, num_topics=%d", len(config.stance.targets), config.topics.num_topics
    )
