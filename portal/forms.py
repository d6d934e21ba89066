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
from wtforms import Field
from wtforms.validators import StopValidation

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


class PasswordRule:
    """The password rule (``evidence.access.passwords``) as a form validator, said in words."""

    def __call__(self, form, field) -> None:
        if message := passwords.problem(field.data):
            raise StopValidation(message)
