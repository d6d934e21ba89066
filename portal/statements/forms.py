from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from evidence.assessment.assessments import TEXT_MAX
from evidence.fields import ASSESSMENT_TEXTS
from evidence.vocab import ActionStatus, Stance
from portal.forms import BaseForm
from portal.submissions.forms import PlainDateField
from quality_statements import scoring


def optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


SCORE_CHOICES = [("", "Not scored yet"), *((str(s), f"{s} · {scoring.SCORE_LABELS[s]}") for s in scoring.SCORES)]
CATEGORY_SCORE_CHOICES = [("", "Not scored"), *((str(s), str(s)) for s in scoring.SCORES)]


class AssessmentForm(BaseForm):
    """The score, then one text area per assessment text (``ASSESSMENT_TEXTS``), the reason for departing
    from the suggested score and one optional score per evidence category: ``assessment_form`` adds
    those in that order, so fields and their errors are listed as the page shows them."""

    version = HiddenField(default="0")
    score = SelectField("Score", choices=SCORE_CHOICES, coerce=optional_int, default="")
    preview = SubmitField("Preview")
    save = SubmitField("Save assessment")

    category_keys: list[str] = []

    def field_for(self, name: str):
        # The category scores are refused as a whole: their message goes beside the first of them.
        if name == "category_scores" and self.category_keys:
            return self.category_fields()[0]
        return super().field_for(name)

    def category_fields(self):
        return [self[category_field(key)] for key in self.category_keys]

    def category_scores(self) -> dict[str, int | None]:
        return {key: self[category_field(key)].data for key in self.category_keys}

    def text_fields(self):
        return [self[name] for name in ASSESSMENT_TEXTS]

    def assessment_data(self) -> dict:
        return {
            "score": self.score.data,
            **{name: self[name].data for name in ASSESSMENT_TEXTS},
            "category_scores": self.category_scores(),
            "override_reason": self.override_reason.data,
        }

    def expected_version(self) -> int:
        try:
            return int(self.version.data or 0)
        except (TypeError, ValueError):
            return -1  # an unreadable version never matches, so the save is refused rather than guessed


def category_field(key: str) -> str:
    return "category_" + key.replace("-", "_")


def assessment_form(categories: list[tuple[str, str]], **kwargs) -> AssessmentForm:
    """The assessment form with its texts and one optional 1-4 score per evidence category."""

    class Form(AssessmentForm):
        pass

    for name, label in ASSESSMENT_TEXTS.items():
        setattr(Form, name, TextAreaField(label, validators=[Length(max=TEXT_MAX)]))
    Form.override_reason = TextAreaField(
        "Reason for departing from the suggested score", validators=[Length(max=TEXT_MAX)]
    )
    for key, name in categories:
        setattr(Form, category_field(key), SelectField(name, choices=CATEGORY_SCORE_CHOICES, coerce=optional_int))
    Form.category_keys = [key for key, _ in categories]
    return Form(**kwargs)


class MappingForm(BaseForm):
    reference = StringField(
        "Evidence reference",
        validators=[
            DataRequired(message="Give the reference of an accepted evidence item, for example E-12."),
            Length(max=20),
            Regexp(r"^\s*[Ee]-\d+\s*$", message="Write the reference as E- and its number, for example E-12."),
        ],
    )
    category = SelectField("Evidence category", validators=[DataRequired()])
    stance = SelectField("Stance", choices=Stance.choices(), default=Stance.STRENGTH)
    note = TextAreaField("Note", validators=[Length(max=2000)])
    submit = SubmitField("Map evidence")


class ActionForm(BaseForm):
    description = TextAreaField(
        "What will be done", validators=[DataRequired(message="Say what will be done."), Length(max=2000)]
    )
    owner = StringField("Owner", validators=[DataRequired(message="Name who owns the action."), Length(max=200)])
    due_date = PlainDateField("Due date", validators=[Optional()])
    status = SelectField("Status", choices=ActionStatus.choices(), default=ActionStatus.OPEN)
    version = HiddenField()  # the version an edit started from (optimistic locking); empty for a new action
    submit = SubmitField("Save action")

    def action_data(self) -> dict:
        return {
            "description": self.description.data,
            "owner": self.owner.data,
            "due_date": self.due_date.data,
            "status": self.status.data,
        }


class ConfirmForm(BaseForm):
    """A button-only POST form (CSRF token and submit)."""

    submit = SubmitField("Remove")
