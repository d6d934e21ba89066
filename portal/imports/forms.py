from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired, Regexp

from portal.forms import BaseForm


class UploadForm(BaseForm):
    file = FileField(
        "Spreadsheet to import",
        validators=[FileRequired("Choose an .xlsx or .csv file to upload.")],
        render_kw={"accept": ".xlsx,.csv"},
    )


class ConfirmForm(BaseForm):
    digest = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])
    confirm_personal_data = BooleanField(
        "I have checked the rows above: what looks like personal data is acceptable to keep as evidence"
    )
