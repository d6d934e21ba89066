from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, ValidationError

from evidence.access.passwords import RULE
from evidence.vocab import Role
from portal.forms import BaseForm, PasswordRule

PASSWORD_HINT = RULE + " Give it to them in person; they choose their own at their first sign-in."


class NewUserForm(BaseForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter their name."),
            Length(max=200, message="A name here has at most 200 characters."),
        ],
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter their email address."),
            Email("Enter an email address like name@council.gov.uk."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
    )
    # Most accounts are staff who submit findings; an administrator's powers are given deliberately.
    role = SelectField("Role", choices=Role.choices(), default=Role.STAFF.value, validators=[DataRequired()])
    password = PasswordField(
        "Temporary password", validators=[InputRequired("Enter a temporary password."), PasswordRule()]
    )


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
