from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from evidence.assessment.peer import TEXT_MAX
from portal.forms import BaseForm
from portal.ids import IdField
from quality_statements import scoring

RATINGS = [("", "Not rated yet")] + [(str(n), f"{n} · {scoring.label_for(n)}") for n in (1, 2, 3, 4)]


class RatingForm(BaseForm):
    rating = RadioField("Peer rating", choices=RATINGS, default="", validate_choice=True, validators=[Optional()])
    challenge = TextAreaField(
        "Your challenge",
        validators=[Length(max=TEXT_MAX, message=f"Challenge: at most {TEXT_MAX:,} characters.")],
    )
    version = HiddenField()

    def rating_value(self) -> int | None:
        return int(self.rating.data) if self.rating.data else None


class ResponseForm(BaseForm):
    response = TextAreaField(
        "The council's response",
        validators=[Length(max=TEXT_MAX, message=f"Response: at most {TEXT_MAX:,} characters.")],
    )
    version = HiddenField()


class InviteForm(BaseForm):
    reviewer = IdField("Peer reviewer", message="Choose a peer reviewer from the list.")


class ConfirmForm(BaseForm):
    pass


def version_of(form) -> int:
    """The version the form was opened at; text that is not one never matches, so the save is refused."""
    raw = (form.version.data or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1
