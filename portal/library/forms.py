from wtforms import BooleanField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from evidence import periods
from evidence.library.metrics import COMPARATOR_NAME_LIMIT
from evidence.library.search import ANY_STATUS, DEFAULT_SORT, SORTS
from evidence.vocab import Kind, Stance, Status
from portal.forms import BaseForm, required
from portal.submissions.forms import NumberField, PlainDateField

STALE_CHOICES = [("", "Fresh or stale"), ("yes", "Stale only"), ("no", "Fresh only")]


class FilterSelect(SelectField):
    def pre_validate(self, form):
        if self.data not in {value for value, _ in self.choices}:
            raise ValidationError(f"{self.label.text}: “{self.data}” is not one of the choices, so it was not used.")


class QueryForm(BaseForm):
    """Filters read from the query string (no CSRF: they change nothing)."""

    class Meta:
        csrf = False

    def value(self, name: str):
        """A filter's value, or None when it is empty or was not valid."""
        field = self[name]
        return None if field.errors or field.data in ("", None) else field.data


def statement_choices(statements) -> list[tuple[str, str]]:
    """A filter's quality statements, after the choice of any."""
    return [("", "Any quality statement"), *((s.key, s.name) for s in statements)]


class FilterForm(QueryForm):
    """The library's search and filters."""

    q = SearchField("Search", validators=[Optional(), Length(max=200, message="Search: at most 200 characters.")])
    kind = FilterSelect("Kind", choices=[("", "Any kind"), *Kind.choices()], default="")
    statement = FilterSelect("Quality statement", choices=[], default="")
    category = FilterSelect("Evidence category", choices=[], default="")
    stance = FilterSelect("Stance", choices=[("", "Any stance"), *Stance.choices()], default="")
    status = FilterSelect("Status", choices=[*Status.choices(), (ANY_STATUS, "Any status")], default=Status.ACCEPTED)
    owner = FilterSelect("Owner", choices=[], default="")
    stale = FilterSelect("Freshness", choices=STALE_CHOICES, default="")
    date_from = PlainDateField("Period from", validators=[Optional()])
    date_to = PlainDateField("Period to", validators=[Optional()])
    sort = FilterSelect("Sort by", choices=list(SORTS.items()), default=DEFAULT_SORT)

    def __init__(self, formdata, *, statements, categories, owners):
        super().__init__(formdata)
        self.statement.choices = statement_choices(statements)
        self.category.choices = [("", "Any category"), *((c.key, c.name) for c in categories)]
        self.owner.choices = [("", "Anyone"), *((str(u.id), u.name) for u in owners)]


class MappingForm(BaseForm):
    statement = FilterSelect(
        "Quality statement",
        choices=[],
        validate_choice=False,
        validators=[InputRequired("Quality statement: choose one.")],
    )
    category = FilterSelect(
        "Evidence category",
        choices=[],
        validate_choice=False,
        validators=[InputRequired("Evidence category: choose one.")],
    )
    stance = FilterSelect("Stance", choices=Stance.choices(), default=Stance.STRENGTH, validate_choice=False)
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000, message="Note: at most 2000 characters.")])

    def __init__(self, *args, statements=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.statement.choices = [("", "Choose a quality statement"), *((s.key, s.name) for s in statements)]
        self.category.choices = [("", "Choose a category"), *((c.key, c.name) for c in categories)]

    def validate_statement(self, field):
        if field.data not in {key for key, _ in field.choices if key}:
            raise ValidationError("Quality statement: choose one from the list.")

    def validate_category(self, field):
        if field.data not in {key for key, _ in field.choices if key}:
            raise ValidationError("Evidence category: choose one from the list.")

    def validate_stance(self, field):
        if field.data not in set(Stance):
            raise ValidationError("Stance: choose strength, shortfall or context.")


class PointForm(BaseForm):
    period = StringField(
        "Period",
        validators=[InputRequired(f"Period: enter {periods.HINT}."), Length(max=40, message="Period: too long.")],
    )
    value = NumberField("Value")
    replace = BooleanField("Replace the value if this period already has one")

    def validate_value(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Value: enter a number, like 12.5.")


class ComparatorPointForm(PointForm):
    """A value of one of the metric's comparators (England average, region…) for a period."""

    name = required(
        StringField,
        "Comparator",
        "Comparator: name it, e.g. England average.",
        COMPARATOR_NAME_LIMIT,
        f"Comparator: at most {COMPARATOR_NAME_LIMIT} characters.",
        check=InputRequired,
    )
