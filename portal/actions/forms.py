from wtforms import HiddenField, SelectField

from evidence.assessment.actions import DUE_CHOICES, SOONEST, SORTS, STATUS_CHOICES
from evidence.vocab import ActionStatus
from portal.forms import BaseForm
from portal.library.forms import FilterSelect, QueryForm, statement_choices

# The filters a status change carries back to the list it came from.
FILTERS = ("owner", "status", "statement", "due", "round", "sort")


class TrackerFilterForm(QueryForm):
    """The tracker's filters."""

    owner = FilterSelect("Owner", choices=[], default="")
    status = FilterSelect("Status", choices=[("", "Any status"), *STATUS_CHOICES.items()], default="")
    statement = FilterSelect("Quality statement", choices=[], default="")
    due = FilterSelect("Due", choices=[("", "Any time"), *DUE_CHOICES.items()], default="")
    round = FilterSelect("Round", choices=[], default="")
    sort = FilterSelect("Sort by", choices=list(SORTS.items()), default=SOONEST)

    def __init__(self, formdata, *, owners, statements, rounds):
        super().__init__(formdata)
        self.owner.choices = [("", "Anyone"), *((o, o) for o in owners)]
        self.statement.choices = statement_choices(statements)
        self.round.choices = [("", "Any round"), *((str(r.id), r.name) for r in rounds)]


class StatusForm(BaseForm):
    """The small form on each row of the tracker: the new status, on the version the page showed."""

    status = SelectField("Status", choices=ActionStatus.choices())
    version = HiddenField()
    back = HiddenField()  # the tracker's query string, so the list comes back as it was filtered
