"""The base of every form in the portal.

Text arrives with whatever was pasted into it. A NUL character cannot be stored
by PostgreSQL (and means nothing in any field), so it is dropped from every text
value before validation, in one place rather than form by form.
"""

from __future__ import annotations

from flask_wtf import FlaskForm

NUL = "\x00"


def drop_nul(value):
    return value.replace(NUL, "") if isinstance(value, str) else value


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = (*unbound_field.kwargs.get("filters", ()), drop_nul)
            return unbound_field.bind(form=form, filters=filters, **options)
