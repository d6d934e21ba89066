"""Importing metric points: (metric, period, value) rows, adding to each metric's series.

A row names a metric already in the library by its reference (E-12) or by its
name; a name not yet known creates a new metric, described by the optional
unit, direction and target columns. A metric holds one value per period: the
same value again changes nothing, a different value updates it. Comparator
columns (``comparators``) give each comparator's value for the row's period,
with the same rule.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from evidence import audit, bounds, wording
from evidence.db import db
from evidence.imports import cells, comparators
from evidence.imports.base import (
    CREATE,
    UNCHANGED,
    UPDATE,
    Column,
    Importer,
    ImportResult,
    ParsedRow,
    Plan,
    PlannedRow,
    RowError,
    add_mappings,
    choice_column,
    describe_mappings,
    in_chunks,
    mapping_columns,
    natural_key,
    new_item,
    number_column,
    record_mappings,
    scan,
    summary_column,
    text_column,
)
from evidence.library import citations
from evidence.library.items import default_review_by
from evidence.library.metrics import find_series, format_value, same_comparator, set_comparator_point, set_point
from evidence.models import ComparatorSeries, EvidenceItem, User
from evidence.vocab import Direction, Kind, Status

DIRECTIONS = cells.choices_of(
    Direction, {"higher is better": "higher", "lower is better": "lower", "up": "higher", "down": "lower"}
)
# Columns that describe a metric rather than one of its points: used when the metric is new.
DESCRIBING = {
    "Unit": "unit",
    "Direction": "direction",
    "Target": "target",
    "Source": "source",
    "Summary": "summary",
}


ACTIONS = (CREATE, UPDATE, UNCHANGED)


def _reason(problem: str, unit: str | None) -> str:
    """A value out of its unit's range, as a row's problem: "139 is not a percentage … (the metric's unit is %)"."""
    unit = (unit or "").strip()
    return f"{problem[0].upper()}{problem[1:]}" + ("" if f"“{unit}”" in problem else f" (the metric's unit is {unit})")


# Where a parsed row keeps its comparators' values: {series name: (the column it came from, value)}.
COMPARATORS = "comparators"


def _metric(raw: Any, _lookups) -> str:
    return cells.text(raw, 300)


def _point_period(period: cells.Period) -> cells.Period:
    """A metric point is a month, quarter or year; a single date counts as its month."""
    if period.start == period.end:
        return cells.month_period(period.start.year, period.start.month)
    return period


class MetricImporter(Importer):
    key = "metric"
    label = "Metric points"
    intro = (
        "One row per value: which metric, the period it measures and the value. Points are added to a metric "
        "already in the library, or a new metric is created the first time its name appears."
    )
    matching_rule = (
        "A metric is found by its reference (E-12) or by its name (ignoring case). A metric holds one value per "
        "period: importing the same value again changes nothing, and a different value for a period already held "
        "updates it (the preview shows it as an update). Unit, direction, target, source, summary and "
        "the mapping columns describe a new metric; for a metric that already exists they are not used — change "
        "those on the metric's own page. Comparators follow the same rule as values: each comparator column gives "
        "that comparator's value for the row's period, for a new metric or one already held; the same value again "
        "changes nothing and a different one updates it."
    )
    notes = (
        "Values are plain numbers in the metric's unit: 1,234.5 is understood, and 61% (or a cell formatted as a "
        "percentage in Excel) gives 61.",
        f"Periods: {cells.PERIOD_FORMS}. A date counts as its month.",
        bounds.UNIT_RULE,
        "Comparators: a column each, named England average, Regional average (or Region), Median or Nearest "
        "neighbours, or any other comparator as “Comparator: <its name>”, e.g. “Comparator: Shire counties”. "
        "Leave a cell blank where a comparator has no value for that period. The Comparator and Comparator value "
        "columns give one more comparator, named row by row.",
    )
    columns = (
        Column(
            "Metric",
            "Reference or name",
            "The metric's reference in the library (E-12), or its name. A new name creates a new metric.",
            "Older people at home 91 days after reablement",
            required=True,
            parse=_metric,
            aliases=("Metric name", "Metric reference", "Reference", "Name"),
            width=40,
        ),
        Column(
            "Period",
            "Period",
            f"The month, quarter or year measured: {cells.PERIOD_FORMS}.",
            "2026 Q3",
            required=True,
            parse=lambda raw, _: cells.period(raw),
            aliases=("Month", "Quarter"),
            width=12,
        ),
        number_column("Value", "The value for that period, in the metric's unit.", 84.5, required=True, width=10),
        text_column("Unit", "For a new metric: the unit, e.g. %, people, days.", "%", max_length=40, width=10),
        choice_column(
            "Direction",
            "For a new metric: higher or lower (which is better).",
            "higher",
            Direction,
            DIRECTIONS,
            "direction",
            width=11,
        ),
        number_column("Target", "For a new metric: the local target.", 85, width=10),
        *comparators.KNOWN,
        text_column(
            "Comparator",
            "The name of one more comparator, whose value for the period is in Comparator value.",
            "",
            max_length=100,
            aliases=("Comparator label", "Comparator name"),
            width=18,
        ),
        number_column("Comparator value", "That comparator's value for the period.", "", width=12),
        text_column(
            "Source", "For a new metric: where the figures come from.", "ASCOF 2D, SALT return", max_length=300
        ),
        summary_column("For a new metric: what it measures (markdown allowed).", "", width=30),
        *mapping_columns("Safe pathways, systems and transitions", "Processes", "Context"),
    )
    preview_headings = ("Evidence", "Metric", "Period", "Value", "Comparators")

    takes_comparators = True  # a saved layout may name comparator columns

    def __init__(self, comparator_mapping: dict[str, str | None] | None = None):
        # Column heading -> comparator series, beyond the headings recognised (a saved column layout's choice).
        self.comparator_mapping = comparator_mapping

    # -- reading comparators

    @property
    def layout_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.name not in comparators.KNOWN_NAMES)

    def comparator_of(self, heading: str) -> str | None:
        found = comparators.columns([heading])
        return found[0].series if found else None

    def comparator_columns(self, header: list[str], layout=None) -> list[comparators.ComparatorColumn]:
        mapping = dict(self.comparator_mapping or {})
        if layout is not None:  # a saved layout names its comparator columns by position
            named = {c["position"]: c["name"] for c in layout.comparators}
            mapping.update({header[at]: name for at, name in named.items() if at < len(header)})
        return comparators.columns(header, mapping)

    def match_header(self, header: list[str], header_row: int) -> tuple[dict[str, int], list[str]]:
        # Comparator columns are read by ``parse_rows`` itself: the others match as every import's do. A column
        # with a comparator's heading that the layout says is not one (region names under "Region") is ignored.
        taken = {c.position for c in self.comparator_columns(header)}
        unused = [i for i, h in enumerate(header) if h and i not in taken and comparators.known_column(h)]
        kept = ["" if i in taken or i in unused else h for i, h in enumerate(header)]
        positions, notices = super().match_header(kept, header_row)
        if unused:
            notices.append(f"Columns not used by this import were ignored: {', '.join(header[i] for i in unused)}.")
        return positions, notices

    def parse_rows(self, table, lookups):
        found = self.comparator_columns(table.header, table.layout)
        parsed, errors, notices = super().parse_rows(table, lookups)
        values_of = dict(table.rows)  # totals rows are not parsed, so rows are found by their number
        for row in parsed:
            row.values[COMPARATORS] = self._comparators_of(row, values_of[row.row], found, errors)
        return parsed, errors, notices

    def _comparators_of(self, row: ParsedRow, values: list[Any], found, errors: list[RowError]):
        """A row's comparator values: {series name: (column, value)}; a cell that is not a number is an error."""
        given: dict[str, tuple[str, float]] = {}
        for column in found:
            raw = values[column.position] if column.position < len(values) else None
            row.raw[column.heading] = raw
            row.positions[column.heading] = column.position
            if cells.is_blank(raw):
                continue
            try:
                given[column.series] = (column.heading, cells.number(raw))
            except cells.CellError as exc:
                errors.append(self.error(row, column.heading, raw, exc.reason))
        name, value = row.values.get("Comparator"), row.values.get("Comparator value")
        if value is None:
            return given
        if not name:
            errors.append(self.error(row, "Comparator", None, "Missing value: name the comparator of Comparator value"))
            return given
        same = next((series for series in given if same_comparator(series, name)), None)
        if same is not None and given[same][1] != value:
            column = given[same][0]
            reason = f"Differs from column {column} for the same comparator"
            errors.append(self.error(row, "Comparator value", row.raw.get("Comparator value"), reason))
        elif same is None:
            given[name] = ("Comparator value", value)
        return given

    # -- planning

    def plan_rows(self, parsed: list[ParsedRow], errors: list[RowError]):
        good, new_errors = self.checked_rows(parsed, errors)
        targets = self._targets(good, new_errors)
        new_metrics, notices = self._describe_new_metrics(good, targets, new_errors)
        bad_rows = {e.row for e in errors + new_errors}

        planned: list[PlannedRow] = []
        seen: dict[tuple, int] = {}
        announced: set[str] = set()
        for row in good:
            if row.row in bad_rows or row.row not in targets:
                continue
            how, target = targets[row.row]
            period = _point_period(row.values["Period"])
            identity = (how, target.id if how == "item" else target, period.start)
            if identity in seen:
                new_errors.append(
                    self.error(
                        row,
                        "Period",
                        row.raw["Period"],
                        f"Repeats row {seen[identity]}: the same metric and period ({period.label})",
                    )
                )
                continue
            seen[identity] = row.row
            first_of_new = how == "new" and target not in announced
            point = self._plan_point(row, how, target, period, new_metrics, first_of_new, new_errors)
            if point is not None:
                planned.append(point)
                if first_of_new:
                    announced.add(target)
        return planned, new_errors, notices, {"new_metrics": new_metrics}

    def _targets(self, rows: list[ParsedRow], errors: list[RowError]) -> dict[int, tuple[str, Any]]:
        """The metric each row adds to: row number -> ("item", the metric held) or ("new", its natural key).
        A row naming no metric it can add to is an error instead."""
        by_id, by_key, by_title = self._existing(rows)
        targets: dict[int, tuple[str, Any]] = {}
        for row in rows:
            name = row.values["Metric"]
            item_id = citations.reference_id(name)
            if item_id is not None:
                item = by_id.get(item_id)
                if item is None:
                    errors.append(self.error(row, "Metric", name, "Unknown metric reference"))
                elif item.kind != Kind.METRIC:
                    reason = f"{item.reference} is a {item.kind_label.lower()}, not a metric"
                    errors.append(self.error(row, "Metric", name, reason))
                else:
                    targets[row.row] = ("item", item)
                continue
            key = natural_key("metric", name)
            item = by_key.get(key)
            if item is None:
                same_name = by_title.get(cells.normalise(name), [])
                if len(same_name) > 1:
                    refs = ", ".join(i.reference for i in same_name)
                    reason = f"{len(same_name)} metrics have this name ({refs}): use a reference"
                    errors.append(self.error(row, "Metric", name, reason))
                    continue
                item = same_name[0] if same_name else None
            targets[row.row] = ("item", item) if item is not None else ("new", key)
        return targets

    def _plan_point(
        self,
        row: ParsedRow,
        how: str,
        target: Any,
        period: cells.Period,
        new_metrics: dict[str, dict[str, Any]],
        first_of_new: bool,
        errors: list[RowError],
    ) -> PlannedRow | None:
        """One row's point: added, changed or already held (the first row of a new metric describes it)."""
        value = row.values["Value"]
        if how == "item":
            point = next((p for p in target.points if p.period == period.start), None)
            reference, name, unit = target.reference, target.title, target.unit or ""
        else:
            point, spec = None, new_metrics[target]
            reference, name, unit = "New", spec["title"], spec.get("unit") or ""
        if problem := bounds.point_problem(value, unit):
            errors.append(self.error(row, "Value", row.raw["Value"], _reason(problem, unit)))
            return None
        compared = self._plan_comparators(row, how, target, period, unit, errors)
        if compared is None:
            return None
        written, compared_changes, shown = compared
        changes, findings = [], []
        if first_of_new:
            spec = new_metrics[target]
            changes.append(self._describe_spec(spec))
            findings = scan({"Metric": name, "Source": spec.get("source"), "Summary": spec.get("summary")})
        if point is None:
            point_action = CREATE
            changes.insert(0, f"add {period.label}: {self._value(value, unit)}")
        elif abs(point.value - value) > 1e-9:
            point_action = UPDATE
            changes.insert(0, f"{period.label}: {self._value(point.value, unit)} → {self._value(value, unit)}")
        else:
            point_action = UNCHANGED
        changes += compared_changes
        action = UPDATE if point_action == UNCHANGED and written else point_action
        return PlannedRow(
            row.row,
            action,
            [reference, name, period.label, self._value(value, unit), "; ".join(shown)],
            changes=changes,
            findings=findings,
            payload={
                "how": how,
                "target": target,
                "period": period,
                "value": value,
                "point": point,
                "point_action": point_action,
                "comparators": written,
            },
        )

    def _plan_comparators(self, row: ParsedRow, how: str, target: Any, period: cells.Period, unit: str, errors):
        """The row's comparator values: those to write (series, value, the point held), the changes as the
        preview says them, and each value as shown; None when one is out of range."""
        written, changes, shown, ok = [], [], [], True
        for series_name, (column, value) in row.values.get(COMPARATORS, {}).items():
            if problem := bounds.point_problem(value, unit):
                errors.append(self.error(row, column, row.raw.get(column), _reason(problem, unit)))
                ok = False
                continue
            series = find_series(target, series_name) if how == "item" else None
            held = series.point_for(period.start) if series is not None else None
            shown.append(f"{series_name} {self._value(value, unit)}")
            if held is None:
                written.append((series_name, value, None))
                changes.append(f"add {series_name} {period.label}: {self._value(value, unit)}")
            elif not abs(held.value - value) <= 1e-9:  # a value stored as NaN is changed too
                written.append((series_name, value, held))
                old, new = self._value(held.value, unit), self._value(value, unit)
                changes.append(f"{series_name} {period.label}: {old} → {new}")
        return (written, changes, shown) if ok else None

    def _existing(self, rows: list[ParsedRow]):
        # A reference no item can have is reported as unknown without being looked up.
        ids = sorted({i for r in rows if citations.findable(i := citations.reference_id(r.values["Metric"]))})
        names = sorted(
            {cells.normalise(r.values["Metric"]) for r in rows if citations.reference_id(r.values["Metric"]) is None}
        )
        keys = [natural_key("metric", name) for name in names]
        by_id: dict[int, EvidenceItem] = {}
        by_key: dict[str, EvidenceItem] = {}
        by_title: dict[str, list[EvidenceItem]] = defaultdict(list)
        load_points = (
            selectinload(EvidenceItem.points),
            selectinload(EvidenceItem.mappings),
            selectinload(EvidenceItem.comparators).selectinload(ComparatorSeries.points),
        )
        for chunk in in_chunks(ids):
            query = select(EvidenceItem).where(EvidenceItem.id.in_(chunk)).options(*load_points)
            for item in db.session.scalars(query):
                by_id[item.id] = item
        for chunk_names, chunk_keys in zip(in_chunks(names), in_chunks(keys), strict=True):
            query = (
                select(EvidenceItem)
                .where(
                    EvidenceItem.kind == Kind.METRIC,
                    or_(
                        EvidenceItem.natural_key.in_(chunk_keys),
                        (func.lower(EvidenceItem.title).in_(chunk_names) & (EvidenceItem.status != Status.ARCHIVED)),
                    ),
                )
                .options(*load_points)
            )
            for item in db.session.scalars(query):
                if item.natural_key in chunk_keys:
                    by_key[item.natural_key] = item
                if item.status != Status.ARCHIVED and cells.normalise(item.title) in chunk_names:
                    by_title[cells.normalise(item.title)].append(item)
        return by_id, by_key, by_title

    def _describe_new_metrics(self, rows, targets, errors: list[RowError]):
        """The description of each new metric, gathered from its rows; rows that disagree are errors."""
        specs: dict[str, dict[str, Any]] = {}
        sources: dict[tuple[str, str], int] = {}
        given_by: dict[tuple[str, str], ParsedRow] = {}
        ignored: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            if row.row not in targets:
                continue
            how, target = targets[row.row]
            if how == "item":
                given = [c for c, attr in DESCRIBING.items() if row.values.get(c) not in (None, "")]
                differing = [c for c in given if getattr(target, DESCRIBING[c]) != row.values[c]]
                held = {(m.statement_id, m.category_id, m.stance) for m in target.mappings}
                unmapped = [m for m in self.mappings_of(row.values) if (m[0].id, m[1].id, m[2]) not in held]
                if differing or unmapped:
                    ignored[target.reference].append(row.row)
                continue
            spec = specs.setdefault(target, {"title": row.values["Metric"], "row": row.row, "wanted": []})
            for column, attr in DESCRIBING.items():
                value = row.values.get(column)
                if value in (None, ""):
                    continue
                if attr in spec and spec[attr] != value:
                    errors.append(
                        self.error(
                            row,
                            column,
                            row.raw[column],
                            f"Differs from row {sources[(target, attr)]} for the same new metric",
                        )
                    )
                    continue
                spec[attr] = value
                sources.setdefault((target, attr), row.row)
                given_by.setdefault((target, attr), row)
            for mapping in self.mappings_of(row.values):
                if all((m[0].id, m[1].id) != (mapping[0].id, mapping[1].id) for m in spec["wanted"]):
                    spec["wanted"].append(mapping)
        for target, spec in specs.items():
            # A percentage's target is a percentage too (as on the metric's own form).
            problem = spec.get("target") is not None and bounds.point_problem(spec["target"], spec.get("unit"))
            if problem:
                row = given_by[(target, "target")]
                errors.append(self.error(row, "Target", row.raw["Target"], _reason(problem, spec.get("unit"))))
        notices = [
            f"{reference} already exists, so the unit, direction, target, source, summary and mapping "
            f"cells in row{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers))} were not used. "
            "Change them on the metric's page."
            for reference, numbers in ignored.items()
        ]
        return specs, notices

    @staticmethod
    def _value(value: float | None, unit: str) -> str:
        """A value as the preview shows it: every decimal a cell may hold counts, as the import compares them."""
        return format_value(value, unit, places=6)

    def _describe_spec(self, spec: dict[str, Any]) -> str:
        parts = [f"new metric “{spec['title']}”"]
        if spec.get("unit"):
            parts.append(f"unit {spec['unit']}")
        if spec.get("direction"):
            parts.append(Direction(spec["direction"]).label.lower())
        if spec.get("target") is not None:
            parts.append(f"target {cells.as_text(spec['target'])}")
        if spec["wanted"]:
            parts.append("mapped to " + describe_mappings(spec["wanted"]))
        return ", ".join(parts)

    @staticmethod
    def _comparator_counts(plan: Plan) -> tuple[int, int]:
        """How many comparator values the plan adds, and how many it changes."""
        written = [held for r in plan.rows for _, _, held in r.payload["comparators"]]
        return sum(1 for held in written if held is None), sum(1 for held in written if held is not None)

    def _comparator_text(self, plan: Plan, added: str, changed: str) -> str:
        new, updated = self._comparator_counts(plan)
        if not new and not updated:
            return ""
        return f"; comparator values: {new} {added}, {updated} {changed}"

    @staticmethod
    def _point_counts(plan: Plan) -> dict[str, int]:
        return {action: sum(1 for r in plan.rows if r.payload["point_action"] == action) for action in ACTIONS}

    def message(self, plan: Plan, result: ImportResult) -> str:
        count = len(plan.extra.get("new_metrics", {}))
        compared = self._comparator_text(plan, "added", "updated")
        if not count and not compared:
            return super().message(plan, result)
        lead = f"{wording.count(count, 'new metric')}, " if count else ""
        points = self._point_counts(plan)
        return (
            f"Imported metric points from {plan.filename}: {lead}{wording.count(points[CREATE], 'point')} added, "
            f"{points[UPDATE]} updated, {points[UNCHANGED]} already up to date{compared}."
        )

    def summarise(self, plan: Plan) -> str:
        points = self._point_counts(plan)
        new = len(plan.extra.get("new_metrics", {}))
        lead = f"{wording.count(new, 'new metric')}; " if new else ""
        return (
            f"{lead}{wording.count(points[CREATE], 'point')} to add, {points[UPDATE]} to update, "
            f"{points[UNCHANGED]} already up to date{self._comparator_text(plan, 'to add', 'to update')} "
            f"({wording.count(len(plan.rows), 'row')})"
        )

    # -- writing

    def write(self, plan: Plan, user: User | None, confirmed_personal_data: bool) -> ImportResult:
        result = ImportResult(kind=self.key)
        specs = plan.extra.get("new_metrics", {})
        created = self._create_metrics(plan, specs, user)
        periods = self._write_points(plan, created, result)
        self._cover_periods(periods)
        for item in created.values():  # due a review from the last period it measures, as any metric
            item.review_by = default_review_by(Kind.METRIC, item.period_end, item.period_start)
        db.session.flush()
        self._record(plan, specs, created, periods, user, result)
        return result

    @staticmethod
    def _create_metrics(plan: Plan, specs: dict[str, dict[str, Any]], user: User | None) -> dict[str, EvidenceItem]:
        """The new metrics the file names, as they are described, with their mappings."""
        flagged = {r.payload["target"] for r in plan.rows if r.findings and r.payload["how"] == "new"}
        created: dict[str, EvidenceItem] = {}
        for key, spec in specs.items():
            fields = {attr: spec[attr] for attr in DESCRIBING.values() if attr in spec}
            fields.setdefault("summary", "")
            fields.setdefault("source", "")
            item = new_item(Kind.METRIC, user, key, title=spec["title"][:300], **fields)
            item.personal_data = key in flagged
            add_mappings(item, spec["wanted"], user)
            db.session.add(item)
            created[key] = item
        return created

    @staticmethod
    def _write_points(
        plan: Plan, created: dict[str, EvidenceItem], result: ImportResult
    ) -> dict[EvidenceItem, list[tuple[cells.Period, str]]]:
        """Each row's point added or changed; per metric, the periods written and how each changed."""
        periods: dict[EvidenceItem, list[tuple[cells.Period, str]]] = defaultdict(list)
        for planned in plan.rows:
            payload = planned.payload
            item = payload["target"] if payload["how"] == "item" else created[payload["target"]]
            period, value, point = payload["period"], payload["value"], payload["point"]
            # Counted by row, as every import counts: a row whose comparators alone changed is updated.
            if payload["point_action"] == CREATE:
                note = f"added {period.label} = {cells.as_text(value)}"
            elif payload["point_action"] == UPDATE:
                note = f"{period.label}: {cells.as_text(point.value)} → {cells.as_text(value)}"
            else:
                note = None
            if planned.action == CREATE:
                result.created += 1
            elif planned.action == UPDATE:
                result.updated += 1
            else:
                result.unchanged += 1
            if note is not None:
                set_point(item, period.start, period.label, value, point)
                periods[item].append((period, note))
            for series_name, compared, held in payload["comparators"]:
                if held is None:
                    note = f"added {series_name} {period.label} = {cells.as_text(compared)}"
                else:
                    note = f"{series_name} {period.label}: {cells.as_text(held.value)} → {cells.as_text(compared)}"
                set_comparator_point(item, series_name, period.start, period.label, compared, held)
                periods[item].append((period, note))
        return periods

    @staticmethod
    def _cover_periods(periods: dict[EvidenceItem, list[tuple[cells.Period, str]]]) -> None:
        """A metric's period stretches to cover every point it was given."""
        for item, written in periods.items():
            start = min(period.start for period, _ in written)
            end = max(period.end for period, _ in written)
            if item.period_start is None or start < item.period_start:
                item.period_start = start
            if item.period_end is None or end > item.period_end:
                item.period_end = end

    @staticmethod
    def _record(
        plan: Plan,
        specs: dict[str, dict[str, Any]],
        created: dict[str, EvidenceItem],
        periods: dict[EvidenceItem, list[tuple[cells.Period, str]]],
        user: User | None,
        result: ImportResult,
    ) -> None:
        source = f"import of {plan.filename}"
        for key, item in created.items():
            summary = f"Created and accepted by the {source}, row {specs[key]['row']}"
            if item.personal_data:
                summary += ". Possible personal data confirmed by the importer"
            audit.record(
                "import",
                item,
                entity_id=item.id,
                user=user,
                summary=summary,
                after=audit.snapshot(item, ["kind", "title", "status", *DESCRIBING.values()]),
            )
            record_mappings(item.mappings, user)
            result.references.append(item.reference)
        for item, written in periods.items():
            notes = [note for _, note in written]
            shown = notes if len(notes) <= 24 else [*notes[:24], f"and {len(notes) - 24} more"]
            audit.record(
                "points",
                item,
                entity_id=item.id,
                user=user,
                summary=f"Metric points from the {source}: {'; '.join(shown)}",
            )
            if item.reference not in result.references:
                result.references.append(item.reference)
