"""What the API takes and gives: marshmallow schemas, which validate requests and write the OpenAPI document.

Every number is checked against its range in ``evidence.bounds`` (the same rule and words as the forms and
the imports), every text against its length, every date against the years the portal stores; a value out
of range is refused with a message naming its field, before any domain function sees it.
"""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from evidence import bounds, periods
from evidence.library import search
from evidence.vocab import Direction, Kind, QuoteTone, Stance, Status, Voice
from portal.forms import NUL

# --- Fields ----------------------------------------------------------------------------------------------------


class Text(fields.String):
    """Text as the forms take it: NUL dropped (no database stores it); unpaired surrogates refused (they are
    not text, and PostgreSQL cannot store them)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).replace(NUL, "")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Contains characters that are not text (an unpaired surrogate).") from None
        return text


def text(maximum: int, **kwargs) -> Text:
    return Text(validate=validate.Length(max=maximum, error=f"At most {maximum:,} characters."), **kwargs)


class Bounded(fields.Number):
    """A number within one of ``evidence.bounds``' ranges, refused with its message otherwise."""

    num_type = float

    def __init__(self, bound: bounds.NumberRange, **kwargs):
        self.bound = bound
        metadata = {"minimum": bound.minimum, "maximum": bound.maximum, **kwargs.pop("metadata", {})}
        if bound.whole:
            metadata["type"] = "integer"
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return self.bound.check(value)
        except bounds.OutOfRange as exc:
            raise ValidationError(f"{exc}.") from None

    def _serialize(self, value, attr, obj, **kwargs):
        return bounds.usable(value, self.bound)


class Moment(fields.DateTime):
    """A time the portal stored in UTC (without a zone), written with its zone, as RFC 3339 wants."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def day(**kwargs) -> fields.Date:
    return fields.Date(
        validate=validate.Range(min=bounds.FIRST_DATE, max=bounds.LAST_DATE, error=f"Must be in {bounds.YEARS}."),
        **kwargs,
    )


def choice(values, **kwargs) -> fields.String:
    options = [str(v) for v in values]
    return fields.String(validate=validate.OneOf(options, error=f"Choose one of {', '.join(options)}."), **kwargs)


def ident(**kwargs) -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=1, max=bounds.MAX_ID, error=f"Must be between 1 and {bounds.MAX_ID:,}."),
        **kwargs,
    )


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- The framework --------------------------------------------------------------------------------------------


class StatementOut(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    we_statement = fields.String(required=True)
    i_statements = fields.List(fields.String(), required=True)


class ThemeOut(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    statements = fields.List(fields.Nested(StatementOut), required=True)


class CategoryOut(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)


class FrameworkOut(ma.Schema):
    themes = fields.List(fields.Nested(ThemeOut), required=True)
    categories = fields.List(fields.Nested(CategoryOut), required=True)
    stances = fields.List(fields.String(), required=True)


# --- Evidence -------------------------------------------------------------------------------------------------


class ItemQuery(ma.Schema):
    """The library's filters."""

    q = text(
        500,
        metadata={
            "description": "Words to search for, all of which must be found: “quoted phrases”, -word to leave out, "
            "OR between two words, word* (and the last word) for words beginning so, E-12 for one item; "
            "best matches first unless sort says otherwise"
        },
    )
    kind = choice(Kind)
    statement = text(64, metadata={"description": "A quality statement's key"})
    category = text(64, metadata={"description": "An evidence category's key"})
    stance = choice(Stance)
    status = choice(
        [*Status, search.ANY_STATUS],
        metadata={"description": "Quality leads and administrators only; everybody else sees accepted evidence"},
    )
    owner = ident(metadata={"description": "The owner's user id"})
    stale = fields.Boolean(metadata={"description": "Only evidence past (true) or within (false) its review date"})
    date_from = day(metadata={"description": "Evidence whose period ends on or after this day"})
    date_to = day(metadata={"description": "Evidence whose period starts on or before this day"})
    sort = choice(search.SORTS)
    page = ident(load_default=1)
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="Must be between 1 and 200.")
    )

    @validates_schema
    def _period(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError("Must be on or after date_from.", "date_to")


class MappingOut(ma.Schema):
    id = fields.Integer(required=True)
    statement = fields.String(required=True, metadata={"description": "The quality statement's key"})
    statement_name = fields.String(required=True)
    category = fields.String(required=True, metadata={"description": "The evidence category's key"})
    category_name = fields.String(required=True)
    stance = fields.String(required=True)
    note = fields.String(required=True)


class PointOut(ma.Schema):
    period = fields.Date(required=True, metadata={"description": "The first day of the period measured"})
    label = fields.String(required=True)
    value = fields.Float(required=True, allow_none=True, metadata={"description": "null when stored out of range"})


class ComparatorOut(ma.Schema):
    name = fields.String(required=True, metadata={"description": "England average, Regional average…"})
    points = fields.List(fields.Nested(PointOut), required=True, metadata={"description": "Its values, by period"})


class ItemOut(ma.Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    source = fields.String(required=True)
    period_start = fields.Date(required=True, allow_none=True)
    period_end = fields.Date(required=True, allow_none=True)
    review_by = fields.Date(required=True, allow_none=True)
    stale = fields.Boolean(required=True)
    owner = fields.String(required=True, allow_none=True, metadata={"description": "The owner's name"})
    mappings = fields.List(fields.Nested(MappingOut), required=True)
    url = fields.String(required=True, metadata={"description": "The item's page in the portal"})


class ItemDetailOut(ItemOut):
    summary = fields.String(required=True)
    details = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "The fields of its kind (a metric's unit, direction, target; a survey's result…)"},
    )
    points = fields.List(fields.Nested(PointOut), required=True, metadata={"description": "A metric's series"})
    comparators = fields.List(
        fields.Nested(ComparatorOut),
        required=True,
        metadata={"description": "A metric's comparators (England average, region…), each a series of its own"},
    )


class ItemPageOut(ma.Schema):
    items = fields.List(fields.Nested(ItemOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class PointIn(Strict):
    period = text(40, required=True, metadata={"description": periods.HINT[0].upper() + periods.HINT[1:]})
    value = Bounded(bounds.MEASURE, required=True, metadata={"description": "In the metric's unit"})


class FindingIn(Strict):
    """A finding to submit, as the submission form takes it; the fields of other kinds are refused."""

    kind = choice(Kind, required=True)
    title = text(300, required=True)
    source = text(300, required=True)
    summary = text(20000, metadata={"description": "Markdown"})
    period_start = day(allow_none=True)
    period_end = day(allow_none=True)
    review_by = day(allow_none=True)
    suggested_statements = fields.List(
        text(64), validate=validate.Length(max=20, error="At most 20 statements."), metadata={"description": "Keys"}
    )
    survey_name = text(200, allow_none=True)
    question = text(5000, allow_none=True)
    respondents = Bounded(bounds.COUNT, allow_none=True)
    result_percent = Bounded(bounds.PERCENT, allow_none=True)
    population = text(200, allow_none=True)
    unit = text(40, allow_none=True)
    direction = choice(Direction, allow_none=True)
    target = Bounded(bounds.MEASURE, allow_none=True)
    quote_text = text(5000, allow_none=True)
    speaker_role = text(100, allow_none=True)
    voice = choice(Voice, allow_none=True)
    quote_tone = choice(QuoteTone, allow_none=True)
    link_url = text(500, allow_none=True)
    evidences = text(5000, allow_none=True)
    partner_organisation = text(200, allow_none=True)
    feedback_method = text(200, allow_none=True)
    cases_reviewed = Bounded(bounds.COUNT, allow_none=True)
    audit_outcome = text(5000, allow_none=True)
    setting = text(200, allow_none=True)
    observer_role = text(100, allow_none=True)
    points = fields.List(
        fields.Nested(PointIn),
        validate=validate.Length(max=500, error="At most 500 points."),
        metadata={"description": "A metric's values"},
    )


class MappingIn(Strict):
    statement = text(64, required=True, metadata={"description": "A quality statement's key"})
    category = text(64, required=True, metadata={"description": "An evidence category's key"})
    stance = choice(Stance, required=True)
    note = text(2000, load_default="")


class ItemPointsIn(Strict):
    points = fields.List(
        fields.Nested(PointIn),
        required=True,
        validate=validate.Length(min=1, max=5000, error="Send from 1 to 5,000 points."),
    )


class MetricPointIn(PointIn):
    metric = fields.String(
        required=True,
        validate=validate.Regexp(r"^E-[1-9][0-9]{0,11}$", error="A metric's reference, like E-12."),
        metadata={"description": "The metric's reference, E-12"},
    )


class MetricPointsIn(Strict):
    points = fields.List(
        fields.Nested(MetricPointIn),
        required=True,
        validate=validate.Length(min=1, max=5000, error="Send from 1 to 5,000 points."),
    )


class PointsOut(ma.Schema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    message = fields.String(required=True)
    references = fields.List(fields.String(), required=True, metadata={"description": "The metrics changed"})


# --- Rounds and gaps ------------------------------------------------------------------------------------------


class RollUpOut(ma.Schema):
    total = fields.Integer(required=True)
    maximum = fields.Integer(required=True)
    scored = fields.Integer(required=True)
    complete = fields.Boolean(required=True)
    percent = fields.Integer(required=True, allow_none=True, metadata={"description": "null while incomplete"})
    band = fields.String(required=True, allow_none=True)
    missing = fields.List(fields.String(), required=True, metadata={"description": "Unscored statements' keys"})


class RoundOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    created_at = Moment(required=True)
    signed_off_at = Moment(required=True, allow_none=True)
    result = fields.Nested(RollUpOut, required=True)


class ScoreOut(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    score = fields.Integer(required=True, allow_none=True)
    label = fields.String(required=True)


class ThemeScoresOut(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    result = fields.Nested(RollUpOut, required=True)
    statements = fields.List(fields.Nested(ScoreOut), required=True)


class RoundDetailOut(RoundOut):
    frozen = fields.Boolean(required=True, metadata={"description": "Read from the sign-off snapshot"})
    themes = fields.List(fields.Nested(ThemeScoresOut), required=True)


class RoundsOut(ma.Schema):
    rounds = fields.List(fields.Nested(RoundOut), required=True)


class GapOut(ma.Schema):
    kind = fields.String(required=True)
    label = fields.String(required=True)
    statement = fields.String(required=True)
    statement_name = fields.String(required=True)
    category = fields.String(required=True, allow_none=True)
    category_name = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)


class RoundRefOut(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class GapsOut(ma.Schema):
    round = fields.Nested(RoundRefOut, required=True, allow_none=True)
    gaps = fields.List(fields.Nested(GapOut), required=True)
