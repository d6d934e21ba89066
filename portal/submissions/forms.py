"""The "submit a finding" form: common fields, then the fields of the chosen kind.

Every message names its field, so the error summary and the field itself say
the same thing in plain words. ``form_class(kind)`` builds the class for a kind;
the review blueprint extends the same classes.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from flask import current_app
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from evidence import bounds, periods
from evidence.fields import FIELD_LABELS, fields_for
from evidence.library import storage
from evidence.library.metrics import MetricError, parse_period
from evidence.vocab import Direction, Kind, QuoteTone, Voice
from portal.forms import BaseForm

POINT_ROWS = 6  # blank rows offered for a new metric's first values
_DIGITS = re.compile(r"^[+-]?\d+$")
L = FIELD_LABELS


# --- Fields that speak plainly when the input is wrong ------------------------------------------


class PlainDateField(DateField):
    """A date as 2026-04-01 (what a date input sends) or 1/4/2026, in the years ``bounds`` allows."""

    def __init__(self, label=None, validators=None, **kwargs):
        # A date input offers only the range the portal stores.
        kwargs["render_kw"] = {
            "min": bounds.FIRST_DATE.isoformat(),
            "max": bounds.LAST_DATE.isoformat(),
            **(kwargs.get("render_kw") or {}),
        }
        super().__init__(label, validators, format=["%Y-%m-%d", "%d/%m/%Y"], **kwargs)

    def process_formdata(self, valuelist):
        text = " ".join(valuelist or []).strip()
        self.data = None
        if not text:
            return
        for fmt in self.strptime_format:
            try:
                day = datetime.strptime(text, fmt).date()
            except ValueError:
                continue
            try:
                self.data = bounds.check_date(day)
            except bounds.OutOfRange as exc:
                raise ValueError(f"{self.label.text}: {exc}.") from None
            return
        raise ValueError(f"{self.label.text}: “{text}” is not a date; enter it like 2026-04-01.")


class NumberField(Field):
    """A number typed as text: "1,250", "12.5", "-3"; with ``percent`` also "61%".

    ``minimum`` and ``maximum`` are what the field asks for; ``bound`` (from ``evidence.bounds``) is
    what the portal stores at all, the same range the domain checks, and says whether it is whole.
    """

    widget = TextInput()

    def __init__(
        self,
        label=None,
        validators=None,
        percent=False,
        minimum=None,
        maximum=None,
        bound=bounds.MEASURE,
        **kw,
    ):
        super().__init__(label, validators, **kw)
        self.percent, self.minimum, self.maximum, self.bound = percent, minimum, maximum, bound

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:g}" if isinstance(self.data, float) else str(self.data)

    def _what(self) -> str:
        if self.bound.whole:
            what = "a whole number"
        elif self.percent:
            what = "a percentage like 61 or 61%"
        else:
            what = "a number like 12.5"
        if self.minimum is not None and self.maximum is not None:
            what += f" from {self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            what += f", {self.minimum:g} or more"
        return what

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        cleaned = text.replace(",", "").replace(" ", "")
        if self.percent and cleaned.endswith("%"):
            cleaned = cleaned[:-1]
        try:
            value = float(cleaned)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            raise ValueError(f"{self.label.text}: “{text}” is not {self._what()}.") from None
        if self.bound.whole:
            if not value.is_integer():
                raise ValueError(f"{self.label.text}: “{text}” is not {self._what()}.")
            # Digits are read exactly: 2,147,483,648 must not round to a neighbour on its way through a float.
            value = int(cleaned) if _DIGITS.match(cleaned) and len(cleaned) <= 30 else int(value)
        self.data = value

    def pre_validate(self, form):
        if self.data is None:
            return
        if (self.minimum is not None and self.data < self.minimum) or (
            self.maximum is not None and self.data > self.maximum
        ):
            raise StopValidation(f"{self.label.text}: {self.data:g} is out of range; enter {self._what()}.")
        try:
            self.data = self.bound.check(self.data)
        except bounds.OutOfRange as exc:
            raise StopValidation(f"{self.label.text}: {exc}.") from None


class ChoiceField(RadioField):
    """Radio buttons whose "nothing chosen" message names the field."""

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message or f"{label}: choose one."

    def pre_validate(self, form):
        if self.data not in {value for value, _ in self.choices}:
            raise StopValidation(self.message)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        valid = {value for value, _ in self.choices}
        unknown = [v for v in (self.data or []) if v not in valid]
        if unknown:
            raise StopValidation(f"{self.label.text}: “{unknown[0]}” is not a quality statement.")


def required(label: str, message: str) -> DataRequired:
    return DataRequired(f"{label}: {message}")


def most(label: str, limit: int) -> Length:
    return Length(max=limit, message=f"{label}: at most {limit} characters.")


# --- The forms -------------------------------------------------------------------------------------


class ItemForm(BaseForm):
    """What every kind of evidence has."""

    kind: str = ""
    point_rows: int = 0

    title = StringField(
        L["title"], validators=[required(L["title"], "give the finding a short title."), most(L["title"], 300)]
    )
    summary = TextAreaField(L["summary"], validators=[Optional(), most(L["summary"], 20000)])
    source = StringField(
        L["source"],
        validators=[required(L["source"], "say who or what it comes from."), most(L["source"], 300)],
    )
    period_start = PlainDateField(L["period_start"], validators=[Optional()])
    period_end = PlainDateField(L["period_end"], validators=[Optional()])
    suggested_statements = MultiCheckboxField(L["suggested_statements"], choices=[], validators=[Optional()])
    file = FileField("File")
    # Asked for only when the personal data guard flags something in what is about to be sent.
    personal_data_checked = BooleanField("I have checked the flagged text: it does not identify anyone")
    version = HiddenField()
    existing_files = 0  # set by an edit of an item that already has files

    def __init__(self, *args, statements=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.suggested_statements.choices = [(s.key, s.name) for s in statements]
        self.checked_upload: tuple[bytes, str] | None = None

    # Which fields of this form hold the item's own values (not the file, the points or the token).
    def item_field_names(self) -> list[str]:
        return ["title", "summary", "source", "period_start", "period_end", "suggested_statements", *self.kind_fields]

    @property
    def kind_fields(self) -> tuple[str, ...]:
        return fields_for(self.kind)

    def item_fields(self) -> dict:
        values = {name: self[name].data for name in self.item_field_names()}
        values["suggested_statements"] = list(values.get("suggested_statements") or [])
        return values

    def validate_period_end(self, field):
        if field.data and not self.period_start.data and not self.period_start.errors:
            raise ValidationError(f"{L['period_start']}: give a start date as well as an end date.")
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(
                f"{L['period_end']}: {field.data:%-d %b %Y} is before the period start "
                f"({self.period_start.data:%-d %b %Y}); the end must be on or after the start."
            )

    def validate_file(self, field):
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            return
        try:
            self.checked_upload = storage.check_upload(
                upload.stream, upload.filename, max_bytes=current_app.config.get("MAX_CONTENT_LENGTH")
            )
        except storage.UploadError as exc:
            raise ValidationError(f"File: {exc}") from exc

    def has_file(self) -> bool:
        upload = self._fields["file"].data if "file" in self._fields else None
        return bool(upload and getattr(upload, "filename", ""))

    def stored_files(self, upload_dir: str) -> list[storage.StoredFile]:
        """Write the checked upload (if any) under its hash; call only after the form validated."""
        if not self.has_file() or self.checked_upload is None:
            return []
        data, _ = self.checked_upload
        return [storage.store(data, self["file"].data.filename, upload_dir)]

    # Metric rows: point_period_0 / point_value_0, … (only on forms built with point rows).
    def point_fields(self) -> list[tuple[Field, Field]]:
        return [(self[f"point_period_{i}"], self[f"point_value_{i}"]) for i in range(self.point_rows)]

    def point_values(self) -> list[tuple[str, float]]:
        return [(p.data.strip(), v.data) for p, v in self.point_fields() if (p.data or "").strip()]

    def fill_points(self, points) -> None:
        for (period_field, value_field), point in zip(self.point_fields(), points, strict=False):
            period_field.data, value_field.data = point.label, point.value

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.point_rows:
            ok = self._validate_points() and ok
        return ok

    def _validate_points(self) -> bool:
        ok, seen, filled = True, {}, 0
        for n, (period_field, value_field) in enumerate(self.point_fields(), start=1):
            text = (period_field.data or "").strip()
            typed_value = ((value_field.raw_data or [""])[0] or "").strip()
            if value_field.errors:
                ok = False
            if not text and not typed_value:
                continue
            filled += 1
            if not text:
                period_field.errors.append(f"Period {n}: enter the period the value {value_field._value()} is for.")
                ok = False
                continue
            try:
                period = parse_period(text)
            except MetricError as exc:
                period_field.errors.append(f"Period {n}: {exc}.")
                ok = False
                continue
            if period.start in seen:
                period_field.errors.append(f"Period {n}: {period.label} is already given in row {seen[period.start]}.")
                ok = False
            seen.setdefault(period.start, n)
            if value_field.data is None and not value_field.errors:
                value_field.errors.append(f"Value {n}: enter the value for {period.label}.")
                ok = False
            elif (
                value_field.data is not None
                and not value_field.errors
                and (problem := bounds.point_problem(value_field.data, self.unit.data))
            ):
                value_field.errors.append(f"Value {n}: {problem}.")
                ok = False
        if filled == 0:
            first = self.point_fields()[0][0]
            first.errors.append(f"Period 1: give at least one period and its value ({periods.HINT}).")
            ok = False
        return ok


class SurveyFields:
    survey_name = StringField(
        L["survey_name"],
        validators=[required(L["survey_name"], "name the survey."), most(L["survey_name"], 200)],
    )
    question = TextAreaField(L["question"], validators=[Optional(), most(L["question"], 5000)])
    respondents = NumberField(L["respondents"], minimum=0, bound=bounds.COUNT)
    result_percent = NumberField(L["result_percent"], percent=True, minimum=0, maximum=100, bound=bounds.PERCENT)
    population = StringField(L["population"], validators=[Optional(), most(L["population"], 200)])

    def validate_result_percent(self, field):
        if field.data is None and not field.errors:
            raise ValidationError(f"{L['result_percent']}: enter the result as a percentage, like 61%.")


class MetricFields:
    unit = StringField(L["unit"], validators=[Optional(), most(L["unit"], 40)])
    direction = ChoiceField(
        L["direction"],
        choices=Direction.choices(),
        message=f"{L['direction']}: say whether a higher or a lower value is better.",
    )
    target = NumberField(L["target"])

    def validate_target(self, field):
        if field.data is not None and (problem := bounds.point_problem(field.data, self.unit.data)):
            raise ValidationError(f"{L['target']}: {problem}.")


class QuoteFields:
    quote_text = TextAreaField(
        L["quote_text"], validators=[required(L["quote_text"], "enter the words said."), most(L["quote_text"], 5000)]
    )
    speaker_role = StringField(
        L["speaker_role"],
        validators=[
            required(L["speaker_role"], "give the speaker's role, like “Social worker 4” (never a name)."),
            most(L["speaker_role"], 100),
        ],
    )
    voice = ChoiceField(L["voice"], choices=Voice.choices(), message=f"{L['voice']}: choose whose voice it is.")
    quote_tone = ChoiceField(
        L["quote_tone"],
        choices=QuoteTone.choices(),
        default=QuoteTone.NEUTRAL,
        message=f"{L['quote_tone']}: choose barrier, facilitator or neutral.",
    )


class DocumentFields:
    link_url = StringField(L["link_url"], validators=[Optional(), most(L["link_url"], 500)])
    evidences = TextAreaField(
        L["evidences"],
        validators=[required(L["evidences"], "say what the document shows."), most(L["evidences"], 5000)],
    )

    def validate_link_url(self, field):
        if field.data and not re.match(r"^https?://[^\s/]+\.[^\s]+$", field.data.strip(), re.IGNORECASE):
            raise ValidationError(f"{L['link_url']}: enter a full web address starting with https://.")


class PartnerFeedbackFields:
    partner_organisation = StringField(
        L["partner_organisation"],
        validators=[
            required(L["partner_organisation"], "name the partner organisation."),
            most(L["partner_organisation"], 200),
        ],
    )
    feedback_method = StringField(L["feedback_method"], validators=[Optional(), most(L["feedback_method"], 200)])


class CaseAuditFields:
    cases_reviewed = NumberField(L["cases_reviewed"], minimum=1, bound=bounds.COUNT)
    audit_outcome = TextAreaField(
        L["audit_outcome"],
        validators=[required(L["audit_outcome"], "say what the audit found."), most(L["audit_outcome"], 5000)],
    )

    def validate_cases_reviewed(self, field):
        if field.data is None and not field.errors:
            raise ValidationError(f"{L['cases_reviewed']}: enter how many cases were audited.")


class ObservationFields:
    setting = StringField(
        L["setting"], validators=[required(L["setting"], "say where it was observed."), most(L["setting"], 200)]
    )
    observer_role = StringField(L["observer_role"], validators=[Optional(), most(L["observer_role"], 100)])


KIND_MIXINS = {
    Kind.SURVEY: SurveyFields,
    Kind.METRIC: MetricFields,
    Kind.QUOTE: QuoteFields,
    Kind.DOCUMENT: DocumentFields,
    Kind.PARTNER_FEEDBACK: PartnerFeedbackFields,
    Kind.CASE_AUDIT: CaseAuditFields,
    Kind.OBSERVATION: ObservationFields,
}


class DocumentNeedsFileOrLink:
    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.has_file() and not (self.link_url.data or "").strip() and not self.existing_files:
            if "file" in self._fields:
                self["file"].errors.append("File: attach the document or give a link to it.")
            else:
                self.link_url.errors.append(f"{L['link_url']}: give a link, as there is no file attached.")
            ok = False
        return ok


def form_class(kind: str, *, base: type[ItemForm] = ItemForm, point_rows: int = POINT_ROWS) -> type[ItemForm]:
    """The form for one kind: the common fields, that kind's fields and, for a metric, point rows."""
    kind = Kind(kind)
    namespace: dict = {"kind": kind.value, "point_rows": 0}
    bases: tuple[type, ...] = (KIND_MIXINS[kind], base)
    if kind == Kind.DOCUMENT:
        bases = (DocumentNeedsFileOrLink, *bases)
    if kind == Kind.METRIC and point_rows:
        namespace["point_rows"] = point_rows
        for i in range(point_rows):
            namespace[f"point_period_{i}"] = StringField(f"Period {i + 1}", validators=[Optional(), Length(max=40)])
            namespace[f"point_value_{i}"] = NumberField(f"Value {i + 1}")
    return type(f"{kind.name.title().replace('_', '')}Form", bases, namespace)


KIND_DESCRIPTIONS = {
    Kind.SURVEY: "A result from a survey: the question, how many answered and the result, e.g. 61% satisfied.",
    Kind.METRIC: "A measure tracked over time, e.g. days to complete an assessment, with its target.",
    Kind.QUOTE: "Words someone said, with their role (never their name) and whose voice it is.",
    Kind.DOCUMENT: "A policy, procedure, report or record of a process: a file or a link, and what it shows.",
    Kind.PARTNER_FEEDBACK: "What a partner organisation told you: the NHS, providers, the voluntary sector.",
    Kind.CASE_AUDIT: "What an audit of case files found: how many cases and the outcome.",
    Kind.OBSERVATION: "Something seen in practice: a team meeting, a panel, a home visit.",
}

FIELD_HINTS = {
    "title": "A short line that says what was found, e.g. “Carers feel listened to in assessments”.",
    "summary": "What it shows and why it matters. You can use markdown: **bold**, lists, links.",
    "source": "Who or what it comes from, e.g. “Adult Social Care Survey 2025-26, NHS England”.",
    "period_start": "The first day the evidence covers (fieldwork, the month measured), e.g. 2026-04-01.",
    "period_end": "The last day it covers. Leave blank for a single day.",
    "review_by": "After this date the evidence is marked stale. Leave blank to use the usual period for its kind.",
    "suggested_statements": "The quality lead decides the mapping, but your suggestion helps.",
    "file": "Optional. PDF, DOCX, XLSX, CSV, PNG or JPEG.",
    "survey_name": "e.g. Adult Social Care Survey, Survey of Adult Carers in England.",
    "question": "The question as it was asked.",
    "respondents": "How many people answered (n).",
    "result_percent": "The result as a percentage, e.g. 61 or 61%.",
    "population": "Who was surveyed, e.g. people receiving long-term support.",
    "unit": "e.g. %, days, people per 100,000. Leave blank for a plain count.",
    "direction": "",
    "target": "Optional: the value you aim for, in the same unit.",
    "quote_text": "The words as they were said or written.",
    "speaker_role": "A role, never a name: e.g. “Social worker 4”, “Carer of a person with dementia”.",
    "link_url": "A web address starting with https:// (if there is no file, or as well as the file).",
    "evidences": "What this document shows about how the council works.",
    "partner_organisation": "e.g. the integrated care board, a provider, a voluntary organisation.",
    "feedback_method": "e.g. partnership board, survey of providers, letter.",
    "cases_reviewed": "How many case files were audited.",
    "audit_outcome": "What the audit found, including what needs to improve.",
    "setting": "Where it was seen, e.g. “Hospital discharge huddle”.",
    "observer_role": "Who observed, by role, e.g. “Principal social worker”.",
}
