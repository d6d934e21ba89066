from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired
from wtforms.widgets import HiddenInput

from exports.packs import FORMATS, XLSX

FORMAT_CHOICES = [(key, spec.label) for key, spec in FORMATS.items()]


class ChooseForm(FlaskForm):
    """Which round, in which format. A GET form: it only shows the checks."""

    class Meta:
        csrf = False

    round = SelectField("Round", coerce=int, validators=[InputRequired(message="Choose a round.")])
    format = RadioField(
        "Format", choices=FORMAT_CHOICES, default=XLSX, validators=[InputRequired(message="Choose a format.")]
    )


class DownloadForm(FlaskForm):
    """Go on: the manager has seen the checks and wants the file."""

    round = IntegerField(widget=HiddenInput(), validators=[InputRequired(message="Choose a round.")])
    format = StringField(
        widget=HiddenInput(),
        validators=[InputRequired(message="Choose a format."), AnyOf(list(FORMATS), message="Unknown format.")],
    )
