"""Importing survey findings: one row per survey question and its result."""

from __future__ import annotations

from typing import Any

from evidence.imports import cells
from evidence.imports.base import (
    Column,
    ParsedRow,
    RowError,
    mapping_columns,
    natural_key,
    period_columns,
    shorten,
    summary_column,
    text_column,
)
from evidence.imports.item_rows import ItemImporter
from evidence.vocab import Kind


class SurveyImporter(ItemImporter):
    key = "survey"
    kind = Kind.SURVEY
    label = "Survey findings"
    intro = (
        "One row per survey result: the survey, the question asked, the result as a percentage, how many "
        "people answered and when the fieldwork ran. Each row becomes an accepted survey finding in the library."
    )
    identity_column = "Question"
    identity_description = "survey name, question and period start"
    matching_rule = (
        "A row is the same finding as one imported before when its survey name, question and period start match "
        "(ignoring case and spacing). Importing the same file again changes nothing; a row whose other cells have "
        "changed updates that finding, and the preview lists each change. A blank optional cell leaves the value "
        "already held alone."
    )
    columns = (
        text_column(
            "Survey name",
            "The survey, as people know it.",
            "Adult Social Care Survey 2025-26",
            max_length=200,
            required=True,
            aliases=("Survey",),
            width=30,
        ),
        text_column(
            "Question",
            "The question asked, in the survey's words.",
            "Do care and support services help you have control over your daily life?",
            max_length=2000,
            multiline=True,
            required=True,
            width=44,
        ),
        text_column(
            "Title",
            "A short headline for the finding. When blank: the survey name and question.",
            "Most people say services help them feel in control",
            max_length=300,
            aliases=("Finding",),
            width=36,
        ),
        Column(
            "Result",
            "Percentage",
            "The result, as 61%, 61 or 0.61.",
            0.61,
            required=True,
            parse=lambda raw, _: cells.percent(raw),
            aliases=("Result percent", "Percent", "Percentage", "Result %"),
            number_format="0%",
            width=10,
        ),
        Column(
            "Respondents",
            "Whole number",
            "How many people answered the question.",
            412,
            parse=lambda raw, _: cells.whole_number(raw),
            aliases=("n", "Responses", "Number of respondents"),
            number_format="0",
            width=12,
        ),
        text_column(
            "Population",
            "Who was asked.",
            "People receiving long-term support",
            max_length=200,
            width=30,
        ),
        *period_columns(
            "When fieldwork began: a date, or a month such as 2026-01 (its first day).",
            "When fieldwork ended: a date, or a month (its last day). When blank: the period start.",
            whole=True,
            start_required=True,
            aliases=(("Fieldwork start",), ("Fieldwork end",)),
        ),
        text_column(
            "Source",
            "Who ran it or where it is published. When blank: the survey name.",
            "NHS England, ASCS 2025-26, local return",
            max_length=300,
            width=30,
        ),
        summary_column(
            "What the result shows, in a sentence or two (markdown allowed).",
            "61% said services help them have control, up from 57% last year; England average 77%.",
            width=44,
        ),
        *mapping_columns("Assessing needs", "People's experience", "Strength"),
    )
    preview_headings = ("Evidence", "Title", "Result", "Respondents", "Period")
    field_labels = {
        "title": "Title",
        "survey_name": "Survey name",
        "question": "Question",
        "result_percent": "Result",
        "respondents": "Respondents",
        "population": "Population",
        "period_start": "Period start",
        "period_end": "Period end",
        "source": "Source",
        "summary": "Summary",
    }
    scanned_fields = ("title", "question", "population", "source", "summary")

    def identity(self, values: dict[str, Any]) -> str:
        return natural_key(
            "survey", values["Survey name"], values["Question"], values["Period start"].start.isoformat()
        )

    def row_checks(self, parsed: ParsedRow) -> list[RowError]:
        start, end = parsed.values.get("Period start"), parsed.values.get("Period end")
        if start is not None and end is not None and end.end < start.start:
            return [self.error(parsed, "Period end", parsed.raw["Period end"], "Ends before the period start")]
        return []

    def fields(self, values: dict[str, Any]) -> dict[str, Any]:
        end = values["Period end"]
        return {
            "title": values["Title"] or None,
            "survey_name": values["Survey name"],
            "question": values["Question"],
            "result_percent": values["Result"],
            "respondents": values["Respondents"],
            "population": values["Population"] or None,
            "period_start": values["Period start"].start,
            "period_end": end.end if end is not None else None,
            "source": values["Source"] or None,
            "summary": values["Summary"] or None,
        }

    def defaults(self, values: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "title": shorten(f"{values['Survey name']}: {' '.join(values['Question'].split())}", 300),
            "period_end": values["Period start"].end,
            "source": values["Survey name"],
            "summary": "",
        }

    def display(self, values: dict[str, Any], fields: dict[str, Any]) -> list[str]:
        respondents = fields.get("respondents")
        return [
            fields.get("title") or "",
            f"{cells.as_text(fields.get('result_percent'))}%",
            "" if respondents is None else f"{respondents:,}",
            cells.period_text(fields.get("period_start"), fields.get("period_end")),
        ]
