from wtforms import BooleanField, SelectField, StringField, SubmitField

from evidence.assessment.rounds import NAME_MAX
from portal.forms import BaseForm, required


class RoundForm(BaseForm):
    name = required(
        StringField, "Name of the round", "Give the round a name, for example “Winter 2026 self-assessment”.", NAME_MAX
    )
    carry_forward = BooleanField("Carry forward the latest round")
    submit = SubmitField("Create round")


class SignOffForm(BaseForm):
    confirm = BooleanField(
        "I confirm this round is complete. Signing it off freezes its scores, text, actions and evidence."
    )
    submit = SubmitField("Sign off this round")


class CompareForm(BaseForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    a = SelectField("From round", coerce=int)
    b = SelectField("To round", coerce=int)
    submit = SubmitField("Compare")
