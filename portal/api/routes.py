"""The API's operations. Each goes through the domain functions the pages use, with the same rules:
who may call it (``@allow``, the same roles as the page that does the same), what each person may see
(``evidence.library.items.can_view``) and what a change must satisfy."""

from __future__ import annotations

import re

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from evidence import bounds
from evidence.access.roles import has_role
from evidence.assessment.gaps import live_gaps
from evidence.assessment.rounds import current_round, round_overview, rounds_with_results
from evidence.db import db
from evidence.framework_sync import categories, statements_by_theme
from evidence.imports import ImportConflict
from evidence.library import items, mappings, metric_feed, search
from evidence.models import EvidenceCategory, EvidenceItem, QualityStatement, Round
from evidence.vocab import Kind, Stance
from portal.api import auth, errors
from portal.api import schemas as s
from portal.permissions import COUNCIL, CURATORS, READERS, allow

bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="The council's evidence portfolio and self-assessment. Every operation needs a personal API token.",
)
bp.before_request(auth.authenticate)
errors.init_blueprint(bp)

LABEL_FIELDS = {label: name for name, label in items.FIELD_LABELS.items()}
_POINT = re.compile(r"^Point (\d+)$")


# --- Shaping answers -------------------------------------------------------------------------------------------


def _mapping(m) -> dict:
    return {
        "id": m.id,
        "statement": m.statement.key,
        "statement_name": m.statement.name,
        "category": m.category.key,
        "category_name": m.category.name,
        "stance": m.stance,
        "note": m.note or "",
    }


def _item(item: EvidenceItem) -> dict:
    return {
        "id": item.id,
        "reference": item.reference,
        "kind": item.kind,
        "title": item.title,
        "status": item.status,
        "source": item.source or "",
        "period_start": item.period_start,
        "period_end": item.period_end,
        "review_by": item.review_by,
        "stale": item.stale,
        "owner": item.owner.name if item.owner else None,
        "mappings": [_mapping(m) for m in item.mappings],
        "url": url_for("library.item", item_id=item.id, _external=True),
    }


def _item_detail(item: EvidenceItem) -> dict:
    details = {name: bounds.finite(getattr(item, name)) for name in items.fields_for(item.kind)}
    return {
        **_item(item),
        "summary": item.summary or "",
        "details": {name: value for name, value in details.items() if value is not None},
        "points": [_point(p) for p in sorted(item.points, key=lambda p: p.period)],
        "comparators": [
            {"name": s.name, "points": [_point(p) for p in sorted(s.points, key=lambda p: p.period)]}
            for s in item.comparators
        ],
    }


def _point(p) -> dict:
    return {"period": p.period, "label": p.label, "value": bounds.usable(p.value)}


def _rollup(r) -> dict:
    return {
        "total": r.total,
        "maximum": r.maximum,
        "scored": r.scored,
        "complete": r.complete,
        "percent": r.percent,
        "band": r.band,
        "missing": list(r.missing),
    }


def _round(round_: Round, result) -> dict:
    return {
        "id": round_.id,
        "name": round_.name,
        "status": round_.status,
        "created_at": round_.created_at,
        "signed_off_at": round_.signed_off_at,
        "result": _rollup(result),
    }


def _viewable(item_id: int) -> EvidenceItem:
    item = db.session.get(EvidenceItem, item_id)
    if item is None or not items.can_view(item, current_user):
        errors.fail(404)  # as on the pages: whether an item exists is itself not for everybody
    return item


def _field_errors(message: str) -> dict:
    """A domain error ("Title: this is required…", "Point 2: …") as the field it names."""
    label, sep, rest = message.partition(":")
    if sep and (point := _POINT.match(label)):
        return {"points": {str(int(point.group(1)) - 1): [rest.strip()]}}
    if sep and label in LABEL_FIELDS:
        return {LABEL_FIELDS[label]: [rest.strip()]}
    if sep and label == "Kind":
        return {"kind": [rest.strip()]}
    return {"_schema": [message]}


def _refuse(message: str, fields: dict) -> None:
    errors.fail(422, message, {"json": fields})


def _send_points(points: list[metric_feed.Point], source: str) -> dict:
    try:
        result = metric_feed.send(points, current_user, source)
    except metric_feed.PointsRefused as exc:
        problems = {str(n): fields for n, fields in exc.problems.items()}
        _refuse(str(exc), {"points": problems or [str(exc)]})
    except ImportConflict as exc:
        errors.fail(409, str(exc))
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "message": result.message,
        "references": result.references,
    }


# --- The framework ---------------------------------------------------------------------------------------------


@bp.route("/framework")
@allow(*COUNCIL)
@bp.response(200, s.FrameworkOut)
def framework():
    """The CQC framework in use: themes, quality statements, evidence categories and stances."""
    return {
        "themes": [
            {
                "key": theme.key,
                "name": theme.name,
                "statements": [
                    {"key": q.key, "name": q.name, "we_statement": q.we_statement, "i_statements": q.i_statements}
                    for q in statements
                ],
            }
            for theme, statements in statements_by_theme()
        ],
        "categories": [{"key": c.key, "name": c.name} for c in categories()],
        "stances": list(Stance),
    }


# --- Evidence --------------------------------------------------------------------------------------------------


@bp.route("/items")
@allow(*READERS)
@bp.arguments(s.ItemQuery, location="query")
@bp.response(200, s.ItemPageOut)
def list_items(args):
    """Evidence in the library, with its filters, a page at a time (accepted evidence, unless a curator asks)."""
    filters = search.Filters.asked({**args, "owner_id": args.get("owner")}, curator=has_role(current_user, *CURATORS))
    page = search.search(filters, page=args["page"], per_page=args["per_page"])
    return {
        "items": [_item(item) for item in page.items],
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@bp.route("/items/<int:item_id>")
@allow(*COUNCIL)
@bp.response(200, s.ItemDetailOut)
def get_item(item_id: int):
    """One item with its mappings and, for a metric, its series of points."""
    return _item_detail(_viewable(item_id))


@bp.route("/items", methods=["POST"])
@allow(*COUNCIL)
@bp.arguments(s.FindingIn)
@bp.response(201, s.ItemDetailOut)
def submit_finding(data):
    """Submit a finding as the token's user; it waits for review like one sent from the form."""
    kind = data.pop("kind")
    points = [(p["period"], p["value"]) for p in data.pop("points", [])]
    if points and kind != Kind.METRIC:
        _refuse("Only a metric has points.", {"points": ["Only a metric has points."]})
    wanted = data.get("suggested_statements") or []
    known = set(db.session.scalars(select(QualityStatement.key).where(QualityStatement.key.in_(wanted))))
    unknown = [key for key in wanted if key not in known]
    if unknown:
        _refuse("Unknown quality statements.", {"suggested_statements": [f"Unknown: {', '.join(unknown)}."]})
    try:
        item = items.create_item(kind, data, user=current_user, points=points)
    except items.ItemError as exc:
        db.session.rollback()
        _refuse(f"{exc}.", _field_errors(str(exc)))
    return _item_detail(item)


@bp.route("/items/<int:item_id>/points", methods=["POST"])
@allow(*COUNCIL)
@bp.arguments(s.ItemPointsIn)
@bp.response(200, s.PointsOut)
def add_points(data, item_id: int):
    """Add or update one metric's points: all of them or none, and the same points again change nothing."""
    item = _viewable(item_id)
    if item.kind == Kind.METRIC and not items.can_add_points(item, current_user):
        errors.fail(403, f"Only the owner of {item.reference} or a quality lead can add its points.")
    points = [metric_feed.Point(item.reference, p["period"], p["value"]) for p in data["points"]]
    return _send_points(points, f"API points for {item.reference}")


@bp.route("/metric-points", methods=["POST"])
@allow(*CURATORS)
@bp.arguments(s.MetricPointsIn)
@bp.response(200, s.PointsOut)
def add_metric_points(data):
    """Points for many metrics at once, as the metric import takes them: all or none, idempotent."""
    points = [metric_feed.Point(p["metric"], p["period"], p["value"]) for p in data["points"]]
    return _send_points(points, "API metric points")


@bp.route("/items/<int:item_id>/mappings", methods=["POST"])
@allow(*CURATORS)
@bp.arguments(s.MappingIn)
@bp.response(201, s.MappingOut)
def add_mapping(data, item_id: int):
    """Map an item onto a quality statement under an evidence category."""
    item = _viewable(item_id)
    statement = db.session.scalar(select(QualityStatement).where(QualityStatement.key == data["statement"]))
    category = db.session.scalar(select(EvidenceCategory).where(EvidenceCategory.key == data["category"]))
    problems = {}
    if statement is None:
        problems["statement"] = ["No quality statement has this key."]
    if category is None:
        problems["category"] = ["No evidence category has this key."]
    if problems:
        _refuse("Unknown statement or category.", problems)
    try:
        mapping = mappings.add_mapping(item, statement, category, data["stance"], data["note"], user=current_user)
    except mappings.MappingError as exc:
        db.session.rollback()
        errors.fail(409, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
    return _mapping(mapping)


# --- Rounds and gaps -------------------------------------------------------------------------------------------


@bp.route("/rounds")
@allow(*READERS)
@bp.response(200, s.RoundsOut)
def list_rounds():
    """Every round, newest first, with its overall score."""
    return {"rounds": [_round(round_, result) for round_, result in rounds_with_results()]}


@bp.route("/rounds/<int:round_id>")
@allow(*READERS)
@bp.response(200, s.RoundDetailOut)
def get_round(round_id: int):
    """A round's statement scores and their roll-up by theme and overall."""
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        errors.fail(404)
    overview = round_overview(round_)
    return {
        **_round(round_, overview.overall),
        "frozen": overview.frozen,
        "themes": [
            {
                "key": theme.key,
                "name": theme.name,
                "result": _rollup(theme.result),
                "statements": [
                    {"key": q.key, "name": q.name, "score": q.score, "label": q.label} for q in theme.statements
                ],
            }
            for theme in overview.themes
        ],
    }


@bp.route("/gaps")
@allow(*READERS)
@bp.response(200, s.GapsOut)
def gaps():
    """Where the current round's self-assessment is thin or inconsistent, as the Gaps page shows."""
    round_ = current_round()
    return {
        "round": {"id": round_.id, "name": round_.name} if round_ else None,
        "gaps": [
            {
                "kind": g.kind,
                "label": g.label,
                "statement": g.statement_key,
                "statement_name": g.statement_name,
                "category": g.category_key,
                "category_name": g.category_name,
                "message": g.message,
            }
            for g in live_gaps(round_)
        ],
    }
