"""Load and validate a framework file.

The framework is data, not code: an administrator may load a replacement file
with the official wording. A malformed file must never half-load, so every
problem is collected and reported with the place it was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FRAMEWORK_PATH = Path(__file__).with_name("framework.yaml")

EXPECTED_SCORES = (1, 2, 3, 4)


class FrameworkError(ValueError):
    """A framework file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class EvidenceCategory:
    key: str
    name: str


@dataclass(frozen=True)
class Theme:
    key: str
    name: str


@dataclass(frozen=True)
class QualityStatement:
    key: str
    theme: str
    name: str
    we_statement: str
    i_statements: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Framework:
    version: str
    name: str
    score_labels: dict[int, str]
    categories: tuple[EvidenceCategory, ...]
    themes: tuple[Theme, ...]
    statements: tuple[QualityStatement, ...]
    _by_name: dict[str, QualityStatement] = field(default_factory=dict, compare=False, repr=False)

    def statements_in(self, theme_key: str) -> list[QualityStatement]:
        return [s for s in self.statements if s.theme == theme_key]

    def find_statement(self, name_or_key: str) -> QualityStatement | None:
        """Match a statement by key, exact name or a known variant, ignoring case."""
        return self._by_name.get(_normalise(name_or_key))

    def find_category(self, name_or_key: str) -> EvidenceCategory | None:
        wanted = _normalise(name_or_key)
        for category in self.categories:
            if wanted in (_normalise(category.key), _normalise(category.name)):
                return category
        return None


def _normalise(text: str) -> str:
    return " ".join(str(text).replace("’", "'").lower().split())


def _text(entry: dict, name: str, where: str, problems: list[str], *, required=True) -> str:
    value = entry.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{where}: missing field '{name}'")
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}: field '{name}' must be text")
        return ""
    return " ".join(value.split())


def _list_of_text(entry: dict, name: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = entry.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: field '{name}' must be a list of text")
        return ()
    return tuple(" ".join(v.split()) for v in value)


def _entries(data: dict, name: str, problems: list[str]) -> list[dict]:
    value = data.get(name)
    if value is None:
        problems.append(f"missing section '{name}'")
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"section '{name}' must be a list of entries")
        return []
    return value


def parse_framework(text: str) -> Framework:
    """Parse framework YAML text, raising FrameworkError naming every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise FrameworkError([f"not valid YAML{where}"]) from exc
    if not isinstance(data, dict):
        raise FrameworkError(["the file must be a mapping with version, themes and quality_statements"])

    problems: list[str] = []
    version = str(data.get("version") or "").strip()
    if not version:
        problems.append("missing field 'version'")
    name = str(data.get("name") or "CQC local authority assessment framework").strip()

    labels_raw = data.get("score_labels")
    score_labels: dict[int, str] = {}
    if not isinstance(labels_raw, dict):
        problems.append("missing section 'score_labels'")
    else:
        for score in EXPECTED_SCORES:
            label = labels_raw.get(score, labels_raw.get(str(score)))
            if not isinstance(label, str) or not label.strip():
                problems.append(f"score_labels: missing label for score {score}")
            else:
                score_labels[score] = label.strip()
        extra = {str(k) for k in labels_raw} - {str(s) for s in EXPECTED_SCORES}
        if extra:
            problems.append(f"score_labels: unexpected scores {', '.join(sorted(extra))}")

    categories = []
    for i, entry in enumerate(_entries(data, "evidence_categories", problems)):
        where = f"evidence_categories[{i + 1}]"
        categories.append(EvidenceCategory(_text(entry, "key", where, problems), _text(entry, "name", where, problems)))
    _check_unique([c.key for c in categories], "evidence category", problems)

    themes = []
    for i, entry in enumerate(_entries(data, "themes", problems)):
        where = f"themes[{i + 1}]"
        themes.append(Theme(_text(entry, "key", where, problems), _text(entry, "name", where, problems)))
    _check_unique([t.key for t in themes], "theme", problems)
    theme_keys = {t.key for t in themes}

    statements = []
    for i, entry in enumerate(_entries(data, "quality_statements", problems)):
        key = _text(entry, "key", f"quality_statements[{i + 1}]", problems)
        where = f"quality statement '{key}'" if key else f"quality_statements[{i + 1}]"
        theme = _text(entry, "theme", where, problems)
        if theme and theme not in theme_keys:
            problems.append(f"{where}: unknown theme '{theme}'")
        statements.append(
            QualityStatement(
                key=key,
                theme=theme,
                name=_text(entry, "name", where, problems),
                we_statement=_text(entry, "we_statement", where, problems),
                i_statements=_list_of_text(entry, "i_statements", where, problems),
                aliases=_list_of_text(entry, "aliases", where, problems),
            )
        )
    _check_unique([s.key for s in statements], "quality statement", problems)
    _check_unique([_normalise(s.name) for s in statements if s.name], "quality statement name", problems)
    for theme in themes:
        if theme.key and not any(s.theme == theme.key for s in statements):
            problems.append(f"theme '{theme.key}' has no quality statements")

    if problems:
        raise FrameworkError(problems)

    by_name: dict[str, QualityStatement] = {}
    for statement in statements:
        for alias in (statement.key, statement.name, *statement.aliases):
            by_name[_normalise(alias)] = statement
    return Framework(
        version=version,
        name=name,
        score_labels=score_labels,
        categories=tuple(categories),
        themes=tuple(themes),
        statements=tuple(statements),
        _by_name=by_name,
    )


def _check_unique(values: list[Any], what: str, problems: list[str]) -> None:
    seen = set()
    for value in values:
        if value and value in seen:
            problems.append(f"duplicate {what} '{value}'")
        seen.add(value)


def load_framework(path: str | Path) -> Framework:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrameworkError([f"cannot read {path}: {exc.strerror}"]) from exc
    return parse_framework_file(data, str(path))


def parse_framework_file(data: bytes, name: str) -> Framework:
    """A framework file's contents, read from disk or uploaded: UTF-8 YAML, checked as ``parse_framework`` does."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameworkError([f"{name} is not UTF-8 text"]) from exc
    return parse_framework(text)


@cache
def load_default_framework() -> Framework:
    return load_framework(DEFAULT_FRAMEWORK_PATH)
