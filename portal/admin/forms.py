from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from evidence.access.accounts import MIN_PASSWORD_LENGTH
from evidence.vocab import Role
from portal.forms import BaseForm


class NewUserForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email address", validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField("Role", choices=Role.choices(), validators=[DataRequired()])
    password = PasswordField(
        "Temporary password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)]
    )


class CouncilForm(BaseForm):
    name = StringField("Council name")
    code = StringField("ONS code")


class UserRoleForm(BaseForm):
    role = SelectField("Role", choices=Role.choices(), validators=[DataRequired()])
