"""The fixed vocabularies of the evidence domain, with the words people see."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    @property
    def label(self) -> str:
        return self._labels()[self]

    @classmethod
    def _labels(cls) -> dict:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(Labelled):
    ADMIN = "admin"
    QUALITY_LEAD = "quality_lead"
    MANAGER = "manager"
    STAFF = "staff"

    @classmethod
    def _labels(cls):
        return {
            cls.ADMIN: "Administrator",
            cls.QUALITY_LEAD: "Quality lead",
            cls.MANAGER: "Manager",
            cls.STAFF: "Staff",
        }


class Kind(Labelled):
    SURVEY = "survey"
    METRIC = "metric"
    QUOTE = "quote"
    DOCUMENT = "document"
    PARTNER_FEEDBACK = "partner_feedback"
    CASE_AUDIT = "case_audit"
    OBSERVATION = "observation"

    @classmethod
    def _labels(cls):
        return {
            cls.SURVEY: "Survey finding",
            cls.METRIC: "Metric",
            cls.QUOTE: "Quote",
            cls.DOCUMENT: "Document / process",
            cls.PARTNER_FEEDBACK: "Partner feedback",
            cls.CASE_AUDIT: "Case audit",
            cls.OBSERVATION: "Observation",
        }

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
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    ARCHIVED = "archived"

    @classmethod
    def _labels(cls):
        return {
            cls.SUBMITTED: "Submitted",
            cls.ACCEPTED: "Accepted",
            cls.RETURNED: "Returned",
            cls.ARCHIVED: "Archived",
        }


class Stance(Labelled):
    STRENGTH = "strength"
    SHORTFALL = "shortfall"
    CONTEXT = "context"

    @classmethod
    def _labels(cls):
        return {cls.STRENGTH: "Strength", cls.SHORTFALL: "Shortfall", cls.CONTEXT: "Context"}


class Voice(Labelled):
    PERSON = "person"
    CARER = "carer"
    STAFF = "staff"
    PARTNER = "partner"

    @classmethod
    def _labels(cls):
        return {
            cls.PERSON: "Person who uses services",
            cls.CARER: "Carer",
            cls.STAFF: "Staff",
            cls.PARTNER: "Partner",
        }


class QuoteTone(Labelled):
    BARRIER = "barrier"
    FACILITATOR = "facilitator"
    NEUTRAL = "neutral"

    @classmethod
    def _labels(cls):
        return {cls.BARRIER: "Barrier", cls.FACILITATOR: "Facilitator", cls.NEUTRAL: "Neutral"}


class Direction(Labelled):
    HIGHER = "higher"
    LOWER = "lower"

    @classmethod
    def _labels(cls):
        return {cls.HIGHER: "Higher is better", cls.LOWER: "Lower is better"}


class ActionStatus(Labelled):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @classmethod
    def _labels(cls):
        return {cls.OPEN: "Open", cls.IN_PROGRESS: "In progress", cls.DONE: "Done"}


class RoundStatus(Labelled):
    OPEN = "open"
    SIGNED_OFF = "signed_off"

    @classmethod
    def _labels(cls):
        return {cls.OPEN: "Open", cls.SIGNED_OFF: "Signed off"}
