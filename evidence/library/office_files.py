"""Whether some bytes are a real Office document (.xlsx or .docx) within safe limits.

The one check for every way such a file comes in: spreadsheet imports, which then open the
workbook, and attachments, which are stored and later opened by whoever downloads them. A
.docx or .xlsx is a zip package; it passes only when the package holds the parts its kind
always has, and when its directory (read without unpacking anything) shows nothing a real
document never has: a zip bomb, an encrypted or duplicated part, a part whose name climbs out
of the package, or an XML part declaring entities.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

CONTENT_TYPES = "[Content_Types].xml"
MB = 1024 * 1024


class NotAnOfficeFile(ValueError):
    """The bytes are not a safe Office document of the kind named; the message says why in plain words."""


class WrongKind(NotAnOfficeFile):
    """The bytes are not an Office document of the kind named at all (another kind, or some other zip)."""


@dataclass(frozen=True)
class PackageLimits:
    max_uncompressed_bytes: int = 50 * MB
    max_ratio: int = 100  # uncompressed size over compressed size of any sizeable part
    ratio_applies_above: int = MB  # small parts may compress well without harm
    max_members: int = 2000


PACKAGE_LIMITS = PackageLimits()


@dataclass(frozen=True)
class _Kind:
    main_part: str
    title: str  # "Excel workbook"
    article: str
    noun: str  # what a message calls the file: "the workbook is encrypted"
    thing: str  # what real ones are: "which real spreadsheets are not"

    @property
    def named(self) -> str:
        return f"{self.article} {self.title}"

    @property
    def things(self) -> str:
        return f"{self.thing}s"


KINDS = {
    "xlsx": _Kind("xl/workbook.xml", "Excel workbook", "an", "workbook", "spreadsheet"),
    "docx": _Kind("word/document.xml", "Word document", "a", "document", "document"),
}
DRIVE = re.compile(r"^[A-Za-z]:")


def _megabytes(size: int) -> str:
    return f"{size / MB:,.1f} MB"


def _points_outside(name: str) -> bool:
    """A part name that is absolute, names a drive, uses backslashes or climbs out with "..": none in Office."""
    return name.startswith("/") or "\\" in name or bool(DRIVE.match(name)) or ".." in name.split("/")


def _shown(name: str) -> str:
    return name if len(name) <= 80 else name[:77] + "..."


def check(data: bytes, extension: str, limits: PackageLimits = PACKAGE_LIMITS) -> None:
    """Refuse (NotAnOfficeFile, or WrongKind for another kind of file) unless ``data`` is a real
    .xlsx or .docx (``extension``) within ``limits``."""
    kind = KINDS[extension]
    if not data.startswith(b"PK"):
        raise WrongKind(f"This file is named .{extension} but is not {kind.named}.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise NotAnOfficeFile(f"This file is named .{extension} but is not a readable {kind.title}.") from None
    with archive:
        members = archive.infolist()
        names = {info.filename for info in members}
        if kind.main_part not in names:
            other = next((k for k in KINDS.values() if k.main_part in names), None)
            if other is not None:
                raise WrongKind(f"This file is {other.named} renamed .{extension}, not {kind.named}.")
            raise WrongKind(f"This file is a zip archive named .{extension}, but it holds no {kind.title}.")
        _check_directory(members, len(names), kind, limits)
        _check_xml_parts(archive, members, kind)
        if CONTENT_TYPES not in names:
            raise WrongKind(
                f"This file is a zip archive named .{extension}, but it is not {kind.named}: "
                f"it has no {CONTENT_TYPES} part."
            )


def _check_directory(members: list[zipfile.ZipInfo], distinct: int, kind: _Kind, limits: PackageLimits) -> None:
    """What the zip's directory alone shows: sizes, ratios, encryption and part names."""
    if len(members) > limits.max_members:
        raise NotAnOfficeFile(f"The {kind.noun} holds too many parts to be a {kind.thing}; it was refused.")
    if distinct != len(members):
        raise NotAnOfficeFile(f"The {kind.noun} holds two parts of the same name, which no real {kind.title} has.")
    unsafe = next((info.filename for info in members if _points_outside(info.filename)), None)
    if unsafe is not None:
        raise NotAnOfficeFile(
            f"The {kind.noun} holds a part named “{_shown(unsafe)}”, which points outside the file; it was refused."
        )
    if any(info.flag_bits & 0x1 for info in members):
        raise NotAnOfficeFile(f"The {kind.noun} is encrypted. Remove the password and upload it again.")
    total = sum(info.file_size for info in members)
    if total > limits.max_uncompressed_bytes:
        raise NotAnOfficeFile(
            f"The {kind.noun} unpacks to {_megabytes(total)}, more than the "
            f"{_megabytes(limits.max_uncompressed_bytes)} allowed. It was refused: it may be a zip bomb, "
            "or simply too big; split it into smaller files."
        )
    for info in members:
        if info.file_size > limits.ratio_applies_above and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise NotAnOfficeFile(
                f"Part of the {kind.noun} ({_shown(info.filename)}) is compressed more than {limits.max_ratio} "
                f"to 1, which real {kind.things} are not. It was refused as a possible zip bomb."
            )


def _check_xml_parts(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], kind: _Kind) -> None:
    # Office never writes a DOCTYPE; an entity declaration is how an XML bomb starts.
    for info in members:
        if info.filename.endswith((".xml", ".rels")):
            try:
                with archive.open(info) as part:
                    head = part.read(4096)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
                raise NotAnOfficeFile(f"The {kind.noun} is damaged and cannot be read.") from None
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise NotAnOfficeFile(f"The {kind.noun} contains XML declarations that {kind.things} never need.")
