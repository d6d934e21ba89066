"""Real and hostile Office files, for the tests of every way one comes in (attachments and imports)."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile

import openpyxl

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELATIONSHIPS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Transitions policy</w:t></w:r></w:p></w:body></w:document>"
)
ENTITIES = '<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
BOMB_PART = b"\x00" * (8 * 1024 * 1024)  # deflates about a thousand to one


Parts = dict[str, str | bytes]


def zip_of(members: Parts | list[tuple[str, str | bytes]], *, encrypted: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicated name, which one sample is
        for name, content in items:
            archive.writestr(name, content)
    return _mark_encrypted(buffer.getvalue(), encrypted) if encrypted else buffer.getvalue()


def _mark_encrypted(data: bytes, names: tuple[str, ...]) -> bytes:
    """Set the "encrypted" flag a password-protected part carries (zipfile cannot write one)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename in names:
                out[info.header_offset + 6] |= 0x1  # the local header's flags
        position = archive.start_dir
    while out[position : position + 4] == b"PK\x01\x02":  # each entry of the central directory
        name_length, extra_length, comment_length = struct.unpack("<HHH", out[position + 28 : position + 34])
        if out[position + 46 : position + 46 + name_length].decode() in names:
            out[position + 8] |= 0x1
        position += 46 + name_length + extra_length + comment_length
    return bytes(out)


def docx_parts(**extra: str | bytes) -> Parts:
    return {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELATIONSHIPS, "word/document.xml": DOCUMENT, **extra}


def real_docx() -> bytes:
    """The smallest Word document Word opens: content types, the package relationship, the body."""
    return zip_of(docx_parts())


def real_xlsx() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["Quarter", "Reviews on time"])
    workbook.active.append(["2026 Q1", 0.61])
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_parts(**extra: str | bytes) -> Parts:
    with zipfile.ZipFile(io.BytesIO(real_xlsx())) as archive:
        parts: Parts = {name: archive.read(name) for name in archive.namelist()}
    return {**parts, **extra}


# name → (file name, content, what the refusal says)
NOT_OF_THAT_KIND = "not an Office document of that kind"
HOSTILE = {
    "zip bomb named .xlsx": (
        "figures.xlsx",
        lambda: zip_of(xlsx_parts(**{"xl/worksheets/sheet2.xml": BOMB_PART})),
        "zip bomb",
    ),
    "zip bomb named .docx": ("policy.docx", lambda: zip_of(docx_parts(**{"word/document.xml": BOMB_PART})), "zip bomb"),
    "zip with no workbook named .xlsx": (
        "figures.xlsx",
        lambda: zip_of({"[Content_Types].xml": CONTENT_TYPES, "xl/styles.xml": "<styleSheet/>"}),
        NOT_OF_THAT_KIND,
    ),
    "docx named .xlsx": ("figures.xlsx", real_docx, NOT_OF_THAT_KIND),
    "xlsx named .docx": ("policy.docx", real_xlsx, NOT_OF_THAT_KIND),
    "docx without content types": (
        "policy.docx",
        lambda: zip_of({"word/document.xml": DOCUMENT}),
        NOT_OF_THAT_KIND,
    ),
    "too many parts": (
        "figures.xlsx",
        lambda: zip_of(xlsx_parts(**{f"xl/media/image{n}.png": b"" for n in range(2001)})),
        "too many parts",
    ),
    "a part climbing out": ("policy.docx", lambda: zip_of(docx_parts(**{"../../cron.d/x": "x"})), "points outside"),
    "an absolute part": ("policy.docx", lambda: zip_of(docx_parts(**{"/etc/passwd": "x"})), "points outside"),
    "a part twice": (
        "policy.docx",
        lambda: zip_of([*docx_parts().items(), ("word/document.xml", "<w:document/>")]),
        "two parts of the same name",
    ),
    "an encrypted part": (
        "figures.xlsx",
        lambda: zip_of(xlsx_parts(), encrypted=("xl/workbook.xml",)),
        "encrypted",
    ),
    "an entity declaration": (
        "policy.docx",
        lambda: zip_of(docx_parts(**{"word/document.xml": DOCUMENT.replace("?>", "?>" + ENTITIES, 1)})),
        "XML declarations",
    ),
}
