"""The personal data guard names what it found, where, and leaves near-misses alone."""

import pytest

from evidence.library.personal_data import is_valid_nhs_number, scan_fields, scan_item, scan_text
from evidence.models import EvidenceItem


def kinds(text):
    return [(f.kind, f.text) for f in scan_text(text)]


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("Contact jo.bloggs@example.org for details", "email", "jo.bloggs@example.org"),
        ("Ring the duty team on 020 7946 0958 today", "phone", "020 7946 0958"),
        ("Her mobile is 07700 900123.", "phone", "07700 900123"),
        ("Call +44 7700 900123", "phone", "+44 7700 900123"),
        ("or +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
        ("NHS number 943 476 5919 on the form", "nhs_number", "943 476 5919"),
        ("NHS no. 9434765919", "nhs_number", "9434765919"),
        ("lives at SW1A 1AA with her son", "postcode", "SW1A 1AA"),
        ("moved to M1 1AE last year", "postcode", "M1 1AE"),
        ("Mr Smith said the visit was late", "titled_name", "Mr Smith"),
        ("Mrs O'Brien was not called back", "titled_name", "Mrs O'Brien"),
        ("Ms Jones, the carer", "titled_name", "Ms Jones"),
        ("Dr. Patel referred him", "titled_name", "Dr. Patel"),
        ("Mrs Jane Smith asked for a review", "titled_name", "Mrs Jane Smith"),
    ],
)
def test_each_pattern_is_found(text, kind, found):
    assert (kind, found) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "NHS number 943 476 5918",  # ten digits, but the modulus 11 check fails
        "ref 1234567890",  # fails the check too
        "the SW1A area",  # a partial postcode (outward code only)
        "people in M1 said",  # another partial postcode
        "case 012345678 closed",  # nine digits: too short for a UK phone number
        "record 0123456789012",  # thirteen digits: too long for a UK phone number
        "Between 2026-04-01 and 2026-06-30, 61% of 1,234 people",
        "Mr and the MS Society",  # a title without a name; MS as an abbreviation
        "Cited as [E-12] and E-13 in the rationale",
    ],
)
def test_near_misses_are_not_found(text):
    assert scan_text(text) == []


def test_nhs_number_check_digit():
    assert is_valid_nhs_number("943 476 5919")
    assert is_valid_nhs_number("943-476-5919")
    assert not is_valid_nhs_number("943 476 5918")
    assert not is_valid_nhs_number("123")
    # A remainder giving a check digit of 10 is never a valid number.
    assert not any(is_valid_nhs_number(f"100000001{d}") for d in range(10))


def test_findings_say_which_field_and_where():
    findings = scan_fields({"Summary": "ok", "Quote": "Ask for Mr Smith"})
    assert [(f.field, f.kind, f.start) for f in findings] == [("Quote", "titled_name", 8)]
    assert findings[0].describe() == "Quote: title and name “Mr Smith” at character 9"


def test_scan_item_looks_at_every_written_field():
    item = EvidenceItem(
        title="Carer feedback",
        summary="Nothing personal here.",
        source="Carers centre",
        quote_text="Write to me at carer@example.com",
        speaker_role="Carer 3",
    )
    findings = scan_item(item)
    assert [(f.field, f.kind) for f in findings] == [("Quote", "email")]
    assert scan_item(EvidenceItem(title="Plain", summary="", source="")) == []


def test_overlapping_patterns_are_reported_once():
    # An NHS number is ten digits; it must not also be reported as a phone number.
    assert kinds("number 943 476 5919") == [("nhs_number", "943 476 5919")]
