"""Hostile values, and hostile spreadsheets built from them, shared by the hostile-input test and benchmark.

Each value belongs to one class: ``TEXT`` values go into every field; ``NUMBER``, ``DATE``,
``PERIOD`` and ``ID`` values go into the fields (and import columns) of that type as well. Within a
class the values that once broke the portal come first, so a short run still tries them.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook

TEXT, NUMBER, DATE, PERIOD, ID = "text", "number", "date", "period", "id"
CLASSES = (TEXT, NUMBER, DATE, PERIOD, ID)

# Past the largest column types: 32-bit and 64-bit integers, and a double.
HUGE = "9" * 400
TWENTY_DIGITS = "99999999999999999999"

VALUES: dict[str, tuple[str, ...]] = {
    TEXT: (
        "",
        " ",
        HUGE,
        TWENTY_DIGITS,
        "NaN",
        "inf",
        "9999-12-31",
        "x" * 20_000,
        "'; DROP TABLE evidence_item; --",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        '=HYPERLINK("http://x","y")',
        "\x00\x01\x02\x1b[31m",
        "\x00",
        "🙂👍🏽 ∑ ñ",
        "\u202egnp.exe",
        "a\r\nb\rc\nd",
        "{{ 7 * 7 }}",
        "%s%s%n",
        "%_",
        "../../etc/passwd",
        "E-999999",
        "-1",
        "null",
        "x" * 301,
    ),
    NUMBER: (
        HUGE,
        "-" + HUGE,
        "1e309",
        "-1e309",
        "inf",
        "-inf",
        "Infinity",
        "NaN",
        "3000000000",
        "2147483648",
        "-2147483649",
        TWENTY_DIGITS,
        "-" + TWENTY_DIGITS,
        "12345678901234567890",
        "9223372036854775808",
        "1e308",
        "1e20",
        "1e-400",
        "1,000,000,000,000,000,000,000",
        "0",
        "-0",
        "-1",
        "0.0000001",
        "100.0000001",
        "101%",
        "12.5%",
        "%",
        "0x10",
        "1_000",
        "١٢٣",
        "１２",
        "²",
        "1e",
        ".",
        "+",
        "5 5",
    ),
    DATE: (
        "9999-12-31",
        "31/12/9999",
        "0001-01-01",
        "01/01/0001",
        "0000-01-01",
        "00/00/0000",
        "99999-01-01",
        "2026-02-30",
        "29/02/2025",
        "31/31/2026",
        "2026-13-01",
        "1899-12-31",
        "1989-12-31",
        "2101-01-01",
        "2026-1-1",
        "20260401",
        "2026-04-01T00:00",
        "-2026-04-01",
        "２０２６-０４-０１",
        "31 Dec 9999",
    ),
    PERIOD: (
        "0000 Q1",
        "0000-01",
        "9999 Q4",
        "9999-12",
        "Dec 9999",
        "9999/00",
        "9999",
        "0000",
        "2026 Q5",
        "2026 Q0",
        "2026-13",
        "2026-00",
        "99999 Q1",
        "1899 Q4",
        "2101 Q1",
        "Q1 0000",
        "2026 Q1 2026 Q2",
        "31/12/9999",
    ),
    ID: (
        TWENTY_DIGITS,
        "2147483648",
        "3000000000",
        "9223372036854775808",
        "-1",
        "0",
        "1e3",
        "E-" + TWENTY_DIGITS,
        "E-2147483648",
        "E-0",
        "E--1",
        "E-1.5",
    ),
}

# The values the test replays through every typed field of every form and import on every run.
BOUNDS: dict[str, tuple[str, ...]] = {
    NUMBER: (HUGE, "1e309", "3000000000", TWENTY_DIGITS),
    DATE: ("9999-12-31", "31/12/9999"),
    PERIOD: ("0000 Q1", "0000-01"),
    ID: (TWENTY_DIGITS, "2147483648"),
}


def values_for(kind: str) -> tuple[str, ...]:
    """What goes into a field of this class: its own values first, then the text every field gets."""
    own = VALUES.get(kind, ()) if kind != TEXT else ()
    seen = set(own)
    return own + tuple(v for v in VALUES[TEXT] if v not in seen)


def random_text(rng: random.Random, size: int = 40) -> str:
    """Printable and unprintable characters from every plane a form can carry (never a lone surrogate)."""
    pools = (
        "abcdefghijklmnopqrstuvwxyz0123456789 ",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        "\t\r\n\x0b\x0c\x1b\x7f\x85\xa0\u2028\u2029\ufeff\u200b\u202e",
        "éñøßçœ∑√∞≠€£¥—–“”‘’…",
        "日本語中文한국어العربيةहिन्दी",
        "🙂👍🏽🏳️‍🌈👩‍👩‍👧‍👦",
    )
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, size)))


# --- Spreadsheets -----------------------------------------------------------------------------------------------

XLSX, CSV = "xlsx", "csv"


@dataclass(frozen=True)
class ImportFile:
    """One file to upload to an import: its name, its bytes and what is hostile about it."""

    filename: str
    data: bytes
    what: str  # e.g. "Result = '1e309' (xlsx)" or "truncated workbook"


def column_class(type_label: str) -> str:
    """The value class of an import column, from the type its template shows."""
    label = type_label.lower()
    if label in ("number", "percentage", "whole number"):
        return NUMBER
    if label == "date":
        return DATE
    if label == "period":
        return PERIOD
    if label in ("reference", "reference or name"):
        return ID
    return TEXT


_NUMBER_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


class RawNumber(str):
    """A number a workbook cell can hold as text in its XML (``<v>1e309</v>``) but a writer will not write."""


def typed_cell(value: str):
    """The value as a workbook cell holds it when typed in: a number, a date, or else text."""
    if _NUMBER_TEXT.match(value):
        number = float(value) if any(c in value for c in ".eE") else int(value)
        try:
            finite = abs(float(number)) != float("inf")
        except OverflowError:
            finite = False
        return number if finite else RawNumber(value)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return value


def csv_file(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8", errors="surrogatepass")


def xlsx_file(header: list[str], rows: list[list], sheet: str | None = None) -> bytes:
    workbook = Workbook()
    book_sheet = workbook.active
    if sheet:
        book_sheet.title = sheet
    book_sheet.append(header)
    raw: dict[str, str] = {}  # a placeholder number written by openpyxl -> the number the XML should hold
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, RawNumber):
                placeholder = str(_PLACEHOLDER + len(raw))
                raw[placeholder] = str(cell)
                cell = int(placeholder)
            cells.append(_storable(cell))
        book_sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _patch_numbers(buffer.getvalue(), raw) if raw else buffer.getvalue()


_PLACEHOLDER = 7_364_519_000_000


def _patch_numbers(data: bytes, raw: dict[str, str]) -> bytes:
    """Put the numbers openpyxl cannot write into the worksheet's XML, as another program might."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                for placeholder, number in raw.items():
                    content = content.replace(f"<v>{placeholder}</v>".encode(), f"<v>{number}</v>".encode())
            target.writestr(info, content)
    return buffer.getvalue()


_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _storable(cell):
    """A worksheet cannot hold control characters (openpyxl refuses them) or more than 32,767 of them."""
    if isinstance(cell, str):
        cell = _UNWRITABLE.sub("\ufffd", cell)[:32_767]
        if cell.startswith("="):
            cell = " " + cell  # text, not a formula, as a person pasting it would see it
    if isinstance(cell, date) and cell.year < 1900:
        return cell.isoformat()  # before the spreadsheet epoch: as text
    return cell


def hostile_rows(base: list[str], columns: list[str], column: str, value: str, fmt: str) -> list[list]:
    """The good row with one column replaced (alone: a second row could clash with it, as the same point or
    the same item told two ways)."""
    row: list = list(base)
    row[columns.index(column)] = typed_cell(value) if fmt == XLSX else value
    return [row]


def import_file(header: list[str], rows: list[list], fmt: str, what: str, sheet: str | None = None) -> ImportFile:
    stem = "hostile"
    if fmt == CSV:
        return ImportFile(f"{stem}.csv", csv_file(header, [[str(c) for c in row] for row in rows]), what)
    return ImportFile(f"{stem}.xlsx", xlsx_file(header, rows, sheet), what)


def odd_files(header: list[str], base: list[str], sheet: str | None = None) -> list[ImportFile]:
    """Files that are broken, disguised, oversized or strangely named, for any importer's upload."""
    good_csv = csv_file(header, [base])
    good_xlsx = xlsx_file(header, [[typed_cell(c) for c in base]], sheet)
    files = [
        ImportFile("empty.csv", b"", "an empty CSV file"),
        ImportFile("empty.xlsx", b"", "an empty workbook file"),
        ImportFile("bom.csv", "\ufeff".encode(), "a CSV file holding only a byte-order mark"),
        ImportFile("header.csv", csv_file(header, []), "a header and no rows"),
        ImportFile("blank-rows.csv", csv_file(header, [[""] * len(header)] * 50), "a header and 50 blank rows"),
        ImportFile("truncated.xlsx", good_xlsx[: len(good_xlsx) // 2], "a workbook cut in half"),
        ImportFile("truncated.csv", good_csv[: len(good_csv) - 7], "a CSV file cut mid-row"),
        ImportFile("noise.xlsx", random.Random(7).randbytes(4096), "random bytes named .xlsx"),
        ImportFile("csv.xlsx", good_csv, "a CSV file named .xlsx"),
        ImportFile("xlsx.csv", good_xlsx, "a workbook named .csv"),
        ImportFile("legacy.xls", good_xlsx, "a .xls file name"),
        ImportFile("no-name", good_csv, "a file name without an extension"),
        ImportFile("no-workbook.xlsx", _zip({"hello.txt": b"hello"}), "a zip with no workbook in it"),
        ImportFile("bomb.xlsx", _bomb(), "a zip bomb"),
        ImportFile("utf16.csv", ",".join(header).encode("utf-16"), "a UTF-16 CSV file"),
        ImportFile("latin1.csv", (",".join(header) + "\r\ncaf\xe9").encode("latin-1"), "a Latin-1 CSV file"),
        ImportFile("nul.csv", good_csv.replace(b",", b"\x00,", 3), "NUL bytes in a CSV file"),
        ImportFile("quote.csv", good_csv + b'"unclosed,quote\r\n', "an unclosed quote"),
        ImportFile("semicolons.csv", good_csv.replace(b",", b";"), "semicolons for commas"),
        ImportFile("cr.csv", good_csv.replace(b"\r\n", b"\r"), "old Mac line endings"),
        ImportFile("wide.csv", csv_file([*header, *(f"Extra {n}" for n in range(70))], [base]), "70 extra columns"),
        ImportFile("twice.csv", csv_file([*header, *header], [base + base]), "every column twice"),
        ImportFile("late-header.csv", b"\r\n" * 12 + good_csv[3:], "the header below row 12"),
        ImportFile("many.csv", csv_file(header, [base] * 5_001), "5,001 rows, past the limit"),
        ImportFile("long-cell.csv", csv_file(header, [[*base[:-1], "x" * 40_000]]), "a 40,000-character cell"),
        ImportFile("../../../etc/passwd.csv", good_csv, "a path in the file name"),
        ImportFile("a" * 300 + ".csv", good_csv, "a 300-character file name"),
        ImportFile("\x00\u202e.csv", good_csv, "control characters in the file name"),
        ImportFile("名前 🙂.xlsx", good_xlsx, "a non-ASCII file name"),
        ImportFile("formulas.xlsx", _formula_workbook(header, base, sheet), "formulas, errors and booleans in cells"),
    ]
    return files


@functools.cache
def _bomb() -> bytes:
    """A small workbook-shaped zip that unpacks to 20 MB of zeros."""
    return _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * 20_000_000})


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _formula_workbook(header: list[str], base: list[str], sheet: str | None) -> bytes:
    workbook = Workbook()
    book_sheet = workbook.active
    if sheet:
        book_sheet.title = sheet
    book_sheet.append(header)
    odd = ["=1/0", '=HYPERLINK("http://x","y")', True, False, datetime(9999, 12, 31, 23, 59), "#DIV/0!", 1e308]
    for n in range(len(odd)):
        book_sheet.append([odd[(n + i) % len(odd)] if i % 2 else cell for i, cell in enumerate(base)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
