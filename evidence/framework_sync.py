"""Load the framework file's themes, statements and categories into the database."""

from __future__ import annotations

from sqlalchemy import select

from evidence import audit
from evidence.db import db
from evidence.models import EvidenceCategory, QualityStatement, Theme, User
from evidence.settings import FRAMEWORK_VERSION, get_setting, set_setting
from quality_statements import Framework, FrameworkError, load_default_framework


def sync_framework(framework: Framework | None = None) -> bool:
    """Insert or update the framework, matched by key. Returns True when anything changed.

    A replacement framework must keep every statement and category key already
    in use, so that no mapping or assessment is orphaned.
    """
    framework = framework or load_default_framework()
    existing_statements = {s.key: s for s in db.session.scalars(select(QualityStatement))}
    existing_categories = {c.key: c for c in db.session.scalars(select(EvidenceCategory))}
    dropped = sorted(set(existing_statements) - {s.key for s in framework.statements})
    dropped += sorted(set(existing_categories) - {c.key for c in framework.categories})
    if dropped:
        raise FrameworkError([f"the new framework drops keys in use: {', '.join(dropped)}"])

    changed = get_setting(FRAMEWORK_VERSION) != framework.version
    themes = {t.key: t for t in db.session.scalars(select(Theme))}
    for position, spec in enumerate(framework.themes, start=1):
        theme = themes.get(spec.key) or Theme(key=spec.key)
        changed |= _assign(theme, name=spec.name, position=position)
        db.session.add(theme)
        themes[spec.key] = theme
    for position, spec in enumerate(framework.statements, start=1):
        statement = existing_statements.get(spec.key) or QualityStatement(key=spec.key)
        changed |= _assign(
            statement,
            theme=themes[spec.theme],
            name=spec.name,
            position=position,
            we_statement=spec.we_statement,
            i_statements=list(spec.i_statements),
        )
        db.session.add(statement)
    for position, spec in enumerate(framework.categories, start=1):
        category = existing_categories.get(spec.key) or EvidenceCategory(key=spec.key)
        changed |= _assign(category, name=spec.name, position=position)
        db.session.add(category)
    set_setting(FRAMEWORK_VERSION, framework.version)
    db.session.commit()
    return changed


def replace_framework(framework: Framework, *, by: User | None = None) -> bool:
    """Load a replacement framework (the command's and the admin page's one way in): checked by
    ``sync_framework``; when it is refused, nothing is changed. Returns True when anything changed."""
    before = get_setting(FRAMEWORK_VERSION)
    try:
        changed = sync_framework(framework)
    except FrameworkError:
        db.session.rollback()
        raise
    if changed:
        audit.record(
            "framework_load",
            entity_type="framework",
            user=by,
            summary=f"Framework version {framework.version} loaded (was {before or 'none'})",
        )
        db.session.commit()
    return changed


def _assign(obj, **values) -> bool:
    changed = obj.id is None
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def statements_by_theme() -> list[tuple[Theme, list[QualityStatement]]]:
    themes = db.session.scalars(select(Theme).order_by(Theme.position)).all()
    statements = db.session.scalars(select(QualityStatement).order_by(QualityStatement.position)).all()
    return [(theme, [s for s in statements if s.theme_id == theme.id]) for theme in themes]


def statements_in_order() -> list[QualityStatement]:
    """Every quality statement in framework order (theme by theme)."""
    return [s for _, group in statements_by_theme() for s in group]


def categories() -> list[EvidenceCategory]:
    return db.session.scalars(select(EvidenceCategory).order_by(EvidenceCategory.position)).all()


def category_by_key(key: str) -> EvidenceCategory | None:
    return db.session.scalar(select(EvidenceCategory).where(EvidenceCategory.key == key))
