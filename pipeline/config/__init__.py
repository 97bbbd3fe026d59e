"""Typed, validated configuration: the schema (:mod:`.schema`), its domain data (:mod:`.defaults`)
and the loader (:mod:`.loader`), re-exported here as ``pipeline.config``."""

from .defaults import DEFAULT_LINE_PATTERNS, DEFAULT_PARAGRAPH_PATTERNS, DISCOURSE_STOPWORDS, PROCEDURAL_PATTERNS
from .loader import DEFAULT_CONFIG, apply_override, check, config_to_dict, load_config, read_yaml_mapping, validate
from .schema import (
    DEFAULT_TARGETS,
    ChunkConfig,
    ComputeConfig,
    Config,
    DedupConfig,
    PrevalenceConfig,
    ReportConfig,
    StanceConfig,
    SweepConfig,
    TargetConfig,
    TopicsConfig,
    TransformerConfig,
    _Section,
)

__all__ = [
    "DEFAULT_CONFIG", "DEFAULT_LINE_PATTERNS", "DEFAULT_PARAGRAPH_PATTERNS", "DEFAULT_TARGETS", "DISCOURSE_STOPWORDS",
    "PROCEDURAL_PATTERNS", "ChunkConfig", "ComputeConfig", "Config", "DedupConfig", "PrevalenceConfig",
    "ReportConfig", "StanceConfig", "SweepConfig", "TargetConfig", "TopicsConfig", "TransformerConfig", "_Section",
    "apply_override", "check", "config_to_dict", "load_config", "read_yaml_mapping", "validate",
]
