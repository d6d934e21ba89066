from wtforms import BooleanField, TextAreaField

from evidence.fields import FIELD_LABELS
from evidence.library.items import default_review_by
from portal.forms import BaseForm, required
from portal.submissions.forms import FIELD_HINTS, ItemForm, PlainDateField, form_class

# The submission form's hints, where they speak to the submitter, reworded for the quality lead.
LEAD_HINTS = {
    **FIELD_HINTS,
    "suggested_statements": "What the submitter suggested. The mappings that count are made on the item's page.",
    "speaker_role": "A role, never a name. Change a name to a role before accepting.",
}


class ReviewBase(ItemForm):
    """The submission form as the reviewer sees it: every field editable, plus review-by,
    and the confirmation needed to accept text that looks like personal data."""

    file = None  # files are attached by their submitter
    personal_data_checked = None  # the reviewer confirms with confirm_personal_data, which is recorded
    review_by = PlainDateField(FIELD_LABELS["review_by"])
    confirm_personal_data = BooleanField(
        "I have checked what is flagged above: it is not personal data, or it is right to keep it"
    )

    def item_field_names(self) -> list[str]:
        return [*super().item_field_names(), "review_by"]

    def item_fields(self) -> dict:
        values = super().item_fields()
        if values.get("review_by") is None:  # blank: the usual review period for the kind
            values["review_by"] = default_review_by(self.kind, values.get("period_end"), values.get("period_start"))
        return values


def review_form_class(kind: str) -> type[ReviewBase]:
    return form_class(kind, base=ReviewBase, point_rows=0)


class ReturnForm(BaseForm):
    reason = required(
        TextAreaField,
        "Reason for returning it",
        "Reason for returning it: say what needs to change, so the submitter can put it right.",
        2000,
        "Reason for returning it: at most 2000 characters.",
    )
