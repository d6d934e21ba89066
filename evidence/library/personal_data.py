"""The personal data guard: find text that looks like it identifies a person.

Run before an item is accepted and before any export. It is a safety net,
not a classifier: it names what it found and where, and a person decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evidence.fields import FIELD_LABELS, SCANNED_FIELDS

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
NHS_NUMBER = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
UK_PHONE = re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?(?:[\s-]?\d){6,8}(?!\d)")
POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b")
TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+[A-Z][A-Za-z'’-]+(?:\s+[A-Z][A-Za-z'’-]+)?")

KIND_LABELS = {
    "email": "email address",
    "phone": "UK phone number",
    "nhs_number": "NHS number",
    "postcode": "full postcode",
    "titled_name": "title and name",
}


@dataclass(frozen=True)
class Finding:
    field: str
    kind: str
    text: str
    start: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def describe(self) -> str:
        return f"{self.field}: {self.kind_label} “{self.text}” at character {self.start + 1}"


def is_valid_nhs_number(digits: str) -> bool:
    """Modulus 11 check on a 10-digit NHS number."""
    digits = re.sub(r"[ -]", "", digits)
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def is_uk_phone_number(text: str) -> bool:
    """A UK number has 10 digits after its leading 0 or +44 (9 for a few old area codes);
    longer or shorter runs of digits are reference numbers, not phone numbers."""
    digits = re.sub(r"\D", "", text)
    if text.lstrip().startswith("+"):
        digits = digits[2:]  # the country code
        if text.replace(" ", "").startswith("+44(0)"):
            digits = digits[1:]
    else:
        digits = digits[1:]  # the trunk prefix 0
    return len(digits) in (9, 10)


def scan_text(text: str | None, field: str = "text") -> list[Finding]:
    if not text:
        return []
    findings: list[Finding] = []
    taken: list[range] = []

    def add(kind: str, match: re.Match) -> None:
        span = range(match.start(), match.end())
        if any(span.start < t.stop and t.start < span.stop for t in taken):
            return
        taken.append(span)
        findings.append(Finding(field, kind, match.group(0), match.start()))

    for match in EMAIL.finditer(text):
        add("email", match)
    for match in NHS_NUMBER.finditer(text):
        if is_valid_nhs_number(match.group(0)):
            add("nhs_number", match)
    for match in UK_PHONE.finditer(text):
        if is_uk_phone_number(match.group(0)):
            add("phone", match)
    for match in POSTCODE.finditer(text):
        add("postcode", match)
    for match in TITLED_NAME.finditer(text):
        add("titled_name", match)
    return sorted(findings, key=lambda f: f.start)


def scan_fields(fields: Mapping[str, str | None] | Iterable[tuple[str, str | None]]) -> list[Finding]:
    """Scan named pieces of text; each finding names the field it came from."""
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    return [finding for name, text in pairs for finding in scan_text(text, name)]


# The text fields of an evidence item that people write, with the names shown to them, and the reason
# a reviewer gave for returning it.
ITEM_TEXT_FIELDS = {**{name: FIELD_LABELS[name] for name in SCANNED_FIELDS}, "return_reason": "Return reason"}


def scan_values(values: Mapping[str, Any]) -> list[Finding]:
    """Scan the written fields among ``values`` (an item's fields by name, as a form is about to send them)."""
    return scan_fields((label, values.get(name)) for name, label in ITEM_TEXT_FIELDS.items() if name in values)


def scan_item(item) -> list[Finding]:
    """Scan an evidence item's written fields (anything with those attributes)."""
    return scan_fields((label, getattr(item, name, None)) for name, label in ITEM_TEXT_FIELDS.items())
