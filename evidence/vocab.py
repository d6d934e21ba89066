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
