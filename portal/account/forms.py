from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import EqualTo, InputRequired

from evidence.access import api_tokens
from portal.forms import BaseForm, new_password_field, password_field, required


class TokenForm(BaseForm):
    name = required(
        StringField,
        "What the token is for",
        "Say what the token is for, e.g. “Data warehouse feed”.",
        api_tokens.NAME_LENGTH,
        f"At most {api_tokens.NAME_LENGTH} characters.",
    )
    scope = RadioField(
        "What it may do",
        choices=[(s.value, s.label) for s in api_tokens.Scope],
        default=api_tokens.Scope.READ.value,
        validate_choice=True,
    )


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

    new_password = new_password_field("New password", "Enter a new password.")
    confirm = _confirm()


class ChangePasswordForm(BaseForm):
    current_password = password_field("Current password", "Enter your current password.", check=InputRequired)
    new_password = new_password_field("New password", "Enter a new password.")
    confirm = _confirm()
