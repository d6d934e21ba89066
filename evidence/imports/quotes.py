"""Importing quotes: the words people said, whose voice they are, and whether they describe a barrier."""

from __future__ import annotations

from typing import Any

from evidence.imports import cells
from evidence.imports.base import Column, choice_column, mapping_columns, natural_key, shorten, text_column
from evidence.imports.item_rows import ItemImporter
from evidence.vocab import Kind, QuoteTone, Voice

VOICES = cells.choices_of(
    Voice, {"person who uses services": "person", "people": "person", "service user": "person", "carers": "carer"}
)
TONES = cells.choices_of(QuoteTone)


class QuoteImporter(ItemImporter):
    key = "quote"
    kind = Kind.QUOTE
    label = "Quotes"
    intro = (
        "One row per quote: the words as said, the speaker's role (never their name), whose voice it is, and "
        "whether it describes a barrier, a facilitator or neither. Each row becomes an accepted quote."
    )
    identity_column = "Quote"
    identity_description = "quote, speaker role and period"
    matching_rule = (
        "A row is the same quote as one imported before when its words, speaker role and period match (ignoring "
        "case and spacing). Importing the same file again changes nothing; a row whose other cells have changed "
        "updates that quote, and the preview lists each change."
    )
    columns = (
        text_column(
            "Quote",
            "The words as they were said or written.",
            "Once I had one named worker, I stopped having to tell my story again and again.",
            max_length=5000,
            multiline=True,
            required=True,
            aliases=("Quote text", "Words", "Text"),
            width=50,
        ),
        text_column(
            "Speaker role",
            "Who said it, by role: e.g. Carer, Social worker 4. Never a name.",
            "Carer",
            max_length=100,
            required=True,
            aliases=("Speaker", "Role"),
            width=20,
        ),
        choice_column(
            "Voice",
            "Whose voice: person (who uses services), carer, staff or partner.",
            "carer",
            Voice,
            VOICES,
            "voice",
            required=True,
            width=12,
        ),
        choice_column(
            "Tone",
            "Barrier, facilitator or neutral.",
            "facilitator",
            QuoteTone,
            TONES,
            "tone",
            required=True,
            aliases=("Barrier or facilitator",),
            width=12,
        ),
        text_column(
            "Source",
            "Where it was heard: e.g. Carers' forum, case audit, survey free text.",
            "Carers' forum",
            max_length=300,
            width=26,
        ),
        Column(
            "Period",
            "Period",
            f"When it was said: {cells.PERIOD_FORMS}.",
            "2026-03",
            parse=lambda raw, _: cells.period(raw),
            aliases=("Date", "When"),
            width=12,
        ),
        *mapping_columns("Care provision, integration and continuity", "People's experience", "Strength"),
    )
    preview_headings = ("Evidence", "Quote", "Speaker", "Voice", "Tone", "Period")
    field_labels = {
        "title": "Title",
        "quote_text": "Quote",
        "speaker_role": "Speaker role",
        "voice": "Voice",
        "quote_tone": "Tone",
        "source": "Source",
        "period_start": "Period start",
        "period_end": "Period end",
    }
    scanned_fields = ("quote_text", "speaker_role", "source")

    def identity(self, values: dict[str, Any]) -> str:
        period = values["Period"]
        return natural_key("quote", values["Quote"], values["Speaker role"], period.start.isoformat() if period else "")

    def fields(self, values: dict[str, Any]) -> dict[str, Any]:
        period = values["Period"]
        return {
            "quote_text": values["Quote"],
            "speaker_role": values["Speaker role"],
            "voice": values["Voice"],
            "quote_tone": values["Tone"],
            "source": values["Source"] or None,
            "period_start": period.start if period else None,
            "period_end": period.end if period else None,
        }

    def defaults(self, values: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "title": shorten(f"{values['Speaker role']}: “{shorten(values['Quote'], 90)}”", 300),
            "summary": "",
            "source": "",
        }

    def display(self, values: dict[str, Any], fields: dict[str, Any]) -> list[str]:
        return [
            shorten(fields.get("quote_text") or "", 120),
            fields.get("speaker_role") or "",
            Voice(fields["voice"]).label if fields.get("voice") else "",
            QuoteTone(fields["quote_tone"]).label if fields.get("quote_tone") else "",
            cells.period_text(fields.get("period_start"), fields.get("period_end")),
        ]
