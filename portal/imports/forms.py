from flask_wtf.file import FileField, FileRequired
from openpyxl.utils import get_column_letter
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from evidence.imports import layouts
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


COMPARATOR_ROWS = 3
FILTER_ROWS = 2


class LayoutForm(BaseForm):
    """Which column of the file is which: one drop-down per import column, the comparator columns with their names,
    and which rows to take. Built for one file (``for_file``): its columns are the choices."""

    name = StringField("Name of this layout", validators=[Length(max=100, message="Name: at most 100 characters.")])

    @classmethod
    def for_file(cls, importer, table, choice, formdata=None):
        letters = [(str(p), f"{get_column_letter(p + 1)} · {h}") for p, h in enumerate(table.header) if h]
        options = [("", "(not in this file)"), *letters]

        class Form(cls):
            pass

        data: dict[str, str] = {"name": choice.name}
        Form.import_columns = []
        for column in importer.layout_columns:
            name = layouts.field_name(column.name)
            label = column.name + ("" if column.required else " (optional)")
            setattr(Form, name, SelectField(label, choices=options, validate_choice=False))
            Form.import_columns.append((name, column))
            if column.name in choice.columns:
                data[name] = str(choice.columns[column.name])
        Form.comparator_rows = range(COMPARATOR_ROWS) if importer.takes_comparators else range(0)
        for n in Form.comparator_rows:
            setattr(
                Form,
                f"comparator_{n}",
                SelectField(f"Comparator column {n + 1}", choices=options, validate_choice=False),
            )
            setattr(
                Form,
                f"comparator_name_{n}",
                StringField(f"Comparator {n + 1} is", validators=[Length(max=100, message="At most 100 characters.")]),
            )
            if n < len(choice.comparators):
                data[f"comparator_{n}"], data[f"comparator_name_{n}"] = (
                    str(choice.comparators[n][0]),
                    choice.comparators[n][1],
                )
        Form.filter_rows = range(FILTER_ROWS)
        for n in Form.filter_rows:
            setattr(
                Form, f"filter_{n}", SelectField("Take only the rows where", choices=options, validate_choice=False)
            )
            setattr(
                Form,
                f"filter_value_{n}",
                StringField("is", validators=[Length(max=200, message="At most 200 characters.")]),
            )
            if n < len(choice.filters):
                data[f"filter_{n}"], data[f"filter_value_{n}"] = str(choice.filters[n][0]), choice.filters[n][1]
        return Form(formdata=formdata, data=data) if formdata is not None else Form(data=data)

    @staticmethod
    def _position(value) -> int | None:
        text = (value or "").strip()
        if not text:
            return None
        return int(text) if text.isdigit() and len(text) < 6 else -1  # -1: not one of the file's columns

    def choice(self) -> layouts.Choice:
        columns = {
            column.name: position
            for name, column in self.import_columns
            if (position := self._position(self[name].data)) is not None
        }
        comparators = [
            (position, self[f"comparator_name_{n}"].data or "")
            for n in self.comparator_rows
            if (position := self._position(self[f"comparator_{n}"].data)) is not None
        ]
        filters = [
            (position, self[f"filter_value_{n}"].data or "")
            for n in self.filter_rows
            if (position := self._position(self[f"filter_{n}"].data)) is not None
        ]
        return layouts.Choice(self.name.data or "", columns, comparators, filters)
