from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from evidence.access import api_tokens
from portal.forms import BaseForm, PasswordRule


class TokenForm(BaseForm):
    name = StringField(
        "What the token is for",
        validators=[
            DataRequired("Say what the token is for, e.g. “Data warehouse feed”."),
            Length(max=api_tokens.NAME_LENGTH, message=f"At most {api_tokens.NAME_LENGTH} characters."),
        ],
    )
    scope = RadioField(
        "What it may do",
        choices=[(s.value, s.label) for s in api_tokens.Scope],
        default=api_tokens.Scope.READ.value,
        validate_choice=True,
    )


def _new_password():
    return PasswordField("New password", validators=[InputRequired("Enter a new password."), PasswordRule()])


def _confirm():
    return PasswordField(
        "New password again",
        validators=[
            InputRequired("Enter the new password again."),
            EqualTo("new_password", "The two new passwords are not the same; type them again."),
        ],
    )


class NewPasswordForm(BaseForm):
    """A new password, typed twice (the reset link's page)."""

    new_password = _new_password()
    confirm = _confirm()


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(
        "Current password",
        validators=[
            InputRequired("Enter your current password."),
            Length(max=200, message="A password here has at most 200 characters."),
        ],
    )
    new_password = _new_password()
    confirm = _confirm()
