"""The fixed vocabularies of the evidence domain, with the words people see.

Each member is written with its label: ``STRENGTH = "strength", "Strength"``. The
member is the stored value (a plain string, so it compares equal to what the
database holds) and carries the label.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(Labelled):
    ADMIN = "admin", "Administrator"
    QUALITY_LEAD = "quality_lead", "Quality lead"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"
    # From another council, for the LGA-style peer challenge: reads the rounds they are invited to, nothing else.
    PEER_REVIEWER = "peer_reviewer", "Peer reviewer"


class Kind(Labelled):
    SURVEY = "survey", "Survey finding"
    METRIC = "metric", "Metric"
    QUOTE = "quote", "Quote"
    DOCUMENT = "document", "Document / process"
    PARTNER_FEEDBACK = "partner_feedback", "Partner feedback"
    CASE_AUDIT = "case_audit", "Case audit"
    OBSERVATION = "observation", "Observation"

    @property
    def review_months(self) -> int:
        """How long evidence of this kind stays current before it is due a review."""
        return {
            Kind.SURVEY: 12,
            Kind.METRIC: 6,
            Kind.QUOTE: 18,
            Kind.DOCUMENT: 24,
            Kind.PARTNER_FEEDBACK: 12,
            Kind.CASE_AUDIT: 12,
            Kind.OBSERVATION: 12,
        }[self]


class Status(Labelled):
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    RETURNED = "returned", "Returned"
    ARCHIVED = "archived", "Archived"


class Stance(Labelled):
    STRENGTH = "strength", "Strength"
    SHORTFALL = "shortfall", "Shortfall"
    CONTEXT = "context", "Context"


class Voice(Labelled):
    PERSON = "person", "Person who uses services"
    CARER = "carer", "Carer"
    STAFF = "staff", "Staff"
    PARTNER = "partner", "Partner"


class QuoteTone(Labelled):
    BARRIER = "barrier", "Barrier"
    FACILITATOR = "facilitator", "Facilitator"
    NEUTRAL = "neutral", "Neutral"


class Direction(Labelled):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class ActionStatus(Labelled):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class RoundStatus(Labelled):
    OPEN = "open", "Open"
    SIGNED_OFF = "signed_off", "Signed off"


class NotificationKind(Labelled):
    """What a notification is about; each person chooses, kind by kind, how they hear of it."""

    SUBMISSION_REVIEWED = "submission_reviewed", "Your submissions accepted or returned"
    SUBMISSIONS_WAITING = "submissions_waiting", "New submissions waiting for review"
    EVIDENCE_REVIEW = "evidence_review", "Your evidence due for review or stale"
    ACTION_DUE = "action_due", "Your improvement actions due or overdue"
    ROUND_SIGNED_OFF = "round_signed_off", "A round signed off"
    MENTION = "mention", "Mentions of you in comments"
    PEER_CHALLENGE = "peer_challenge", "Peer challenge: invitations and ratings"


class Channel(Labelled):
    """How a person hears of one kind of notification."""

    EMAIL = "email", "In the portal and by email"
    APP = "app", "In the portal only"
    OFF = "off", "Off"


class PeerStatus(Labelled):
    """A round's peer challenge: reviewers rate while it is open; a manager opens and closes it."""

    OPEN = "open", "Open to the peer reviewers"
    CLOSED = "closed", "Closed"
