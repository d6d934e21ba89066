from wtforms import PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from evidence.access.passwords import RULE
from evidence.vocab import Role
from portal.forms import BaseForm, PasswordRule, email_field, new_password_field, required

PASSWORD_HINT = RULE + " Give it to them in person; they choose their own at their first sign-in."


class NewUserForm(BaseForm):
    name = required(StringField, "Name", "Enter their name.", 200, "A name here has at most 200 characters.")
    email = email_field("Enter their email address.")
    # Most accounts are staff who submit findings; an administrator's powers are given deliberately.
    role = SelectField("Role", choices=Role.choices(), default=Role.STAFF.value, validators=[DataRequired()])
    password = new_password_field("Temporary password", "Enter a temporary password.")


class CouncilForm(BaseForm):
    name = StringField("Council name")
    code = StringField("ONS code")


class UserRoleForm(BaseForm):
    role = SelectField("Role", choices=Role.choices(), validators=[DataRequired()])


LINK, TEMPORARY = "link", "temporary"


class ResetPasswordForm(BaseForm):
    how = RadioField(
        "How they choose a new password",
        choices=[
            (LINK, "Make a one-time link for them (works once, for 24 hours)"),
            (TEMPORARY, "Set a temporary password now (they must change it at their next sign-in)"),
        ],
        default=LINK,
        validators=[InputRequired("Choose how they will choose a new password.")],
    )
    password = PasswordField("Temporary password")

    def validate_password(self, field) -> None:
        if self.how.data == TEMPORARY:
            if not field.data:
                raise ValidationError("Enter the temporary password.")
            PasswordRule()(self, field)
