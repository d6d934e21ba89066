from wtforms import HiddenField, SelectField

from evidence.assessment.actions import DUE_CHOICES, SOONEST, SORTS, STATUS_CHOICES
from evidence.vocab import ActionStatus
from portal.forms import BaseForm
from portal.library.forms import FilterSelect

# The filters a status change carries back to the list it came from.
FILTERS = ("owner", "status", "statement", "due", "round", "sort")


class TrackerFilterForm(BaseForm):
    """The tracker's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    owner = FilterSelect("Owner", choices=[], default="")
    status = FilterSelect("Status", choices=[("", "Any status"), *STATUS_CHOICES.items()], default="")
    statement = FilterSelect("Quality statement", choices=[], default="")
    due = FilterSelect("Due", choices=[("", "Any time"), *DUE_CHOICES.items()], default="")
    round = FilterSelect("Round", choices=[], default="")
    sort = FilterSelect("Sort by", choices=list(SORTS.items()), default=SOONEST)

    def __init__(self, formdata, *, owners, statements, rounds):
        super().__init__(formdata)
        self.owner.choices = [("", "Anyone"), *((o, o) for o in owners)]
        self.statement.choices = [("", "Any quality statement"), *((s.key, s.name) for s in statements)]
        self.round.choices = [("", "Any round"), *((str(r.id), r.name) for r in rounds)]

    def value(self, name: str):
        """A filter's value, or None when it is empty or was not valid."""
        field = self[name]
        return None if field.errors or field.data in ("", None) else field.data


class StatusForm(BaseForm):
    """The small form on each row of the tracker: the new status, on the version the page showed."""

    status = SelectField("Status", choices=ActionStatus.choices())
    version = HiddenField()
    back = HiddenField()  # the tracker's query string, so the list comes back as it was filtered
