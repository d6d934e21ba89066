"""The base of every form in the portal.

Text arrives with whatever was pasted into it. A NUL character cannot be stored
by PostgreSQL (and means nothing in any field), so it is dropped from every text
value before validation, in one place rather than form by form.

A form that passed its own checks may still be refused by the domain (a rule
that needs the database, or a conflict); ``add_error`` and ``add_errors`` put
the domain's message beside the field it is about, as the form's own would be.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField
from wtforms.validators import DataRequired, Email, InputRequired, Length, StopValidation

from evidence.access import passwords

NUL = "\x00"


def drop_nul(value):
    return value.replace(NUL, "") if isinstance(value, str) else value


def sentence(error: Exception) -> str:
    """A domain error's message as a sentence: a capital first, a full stop last."""
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = (*unbound_field.kwargs.get("filters", ()), drop_nul)
            return unbound_field.bind(form=form, filters=filters, **options)

    def field_for(self, name: str) -> Field:
        """The field a domain error about ``name`` is shown beside (a form may place a name elsewhere)."""
        return self[name]

    def add_error(self, field: str | Field, message: str) -> None:
        """Show ``message`` beside the field, after any message of its own."""
        field = self.field_for(field) if isinstance(field, str) else field
        field.errors = [*field.errors, message]  # a tuple until the form is validated

    def add_errors(self, errors: Mapping[str, str]) -> None:
        """Show each message of a domain error beside the field it names."""
        for name, message in errors.items():
            self.add_error(name, message)


def required(field_class, label: str, blank: str, limit: int, too_long: str | None = None, *, check=DataRequired):
    """A field that must be filled in (``blank`` says so when it is not) and holds at most ``limit`` characters."""
    return field_class(label, validators=[check(blank), Length(max=limit, message=too_long)])


def email_field(blank: str) -> EmailField:
    return EmailField(
        "Email address",
        validators=[
            DataRequired(blank),
            Email("Enter an email address like name@council.gov.uk."),
            Length(max=254, message="An email address has at most 254 characters."),
        ],
    )


def password_field(label: str, blank: str, *, check=DataRequired) -> PasswordField:
    """A password to check (not a new one: ``PasswordRule`` is for those), of a length any password could be."""
    return required(PasswordField, label, blank, 200, "A password here has at most 200 characters.", check=check)


def new_password_field(label: str, blank: str) -> PasswordField:
    """A password being set, which must keep the password rule."""
    return PasswordField(label, validators=[InputRequired(blank), PasswordRule()])


class PasswordRule:
    """The password rule (``evidence.access.passwords``) as a form validator, said in words."""

    def __call__(self, form, field) -> None:
        if message := passwords.problem(field.data):
            raise StopValidation(message)
