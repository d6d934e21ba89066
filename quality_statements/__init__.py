"""The CQC local authority assessment framework as data, and the scoring rules."""

from quality_statements.loader import (
    DEFAULT_FRAMEWORK_PATH,
    Framework,
    FrameworkError,
    load_default_framework,
    load_framework,
    parse_framework,
    parse_framework_file,
)

__all__ = [
    "DEFAULT_FRAMEWORK_PATH",
    "Framework",
    "FrameworkError",
    "load_default_framework",
    "load_framework",
    "parse_framework",
    "parse_framework_file",
]
