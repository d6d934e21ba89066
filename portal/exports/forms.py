from wtforms import RadioField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired
from wtforms.widgets import HiddenInput

from exports.packs import FORMATS, XLSX
from portal.forms import BaseForm
from portal.ids import IdField

FORMAT_CHOICES = [(key, spec.label) for key, spec in FORMATS.items()]


class ChooseForm(BaseForm):
    """Which round, in which format. A GET form: it only shows the checks."""

    class Meta:
        csrf = False

    round = SelectField("Round", coerce=int, validators=[InputRequired(message="Choose a round.")])
    format = RadioField(
        "Format", choices=FORMAT_CHOICES, default=XLSX, validators=[InputRequired(message="Choose a format.")]
    )


class DownloadForm(BaseForm):
    """Go on: the manager has seen the checks and wants the file."""

    round = IdField(
        widget=HiddenInput(), validators=[InputRequired(message="Choose a round.")], message="Choose a round."
    )
    format = StringField(
        widget=HiddenInput(),
        validators=[InputRequired(message="Choose a format."), AnyOf(list(FORMATS), message="Unknown format.")],
    )
