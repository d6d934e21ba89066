"""Reading the Word document and the PDF back, as a person (or their software) would see them."""

from __future__ import annotations

from io import BytesIO

import docx
from docx.oxml.ns import qn
from pypdf import PdfReader
from pypdf.generic import ContentStream


def open_docx(data: bytes):
    return docx.Document(BytesIO(data))


def body_paragraphs(document) -> list:
    """The document's own paragraphs in order (not those inside tables)."""
    return list(document.paragraphs)


def all_text(document) -> str:
    """Every paragraph's text, tables, header and footer included."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    section = document.sections[0]
    parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def headings(document, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def field_instructions(part_element) -> list[str]:
    return [" ".join(t.text.split()) for t in part_element.iter(qn("w:instrText"))]


def hyperlink_targets(document) -> list[str]:
    return [r.target_ref for r in document.part.rels.values() if r.reltype.endswith("/hyperlink")]


def open_pdf(data: bytes) -> PdfReader:
    return PdfReader(BytesIO(data))


def pdf_text(reader: PdfReader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def outline_titles(reader: PdfReader) -> list[tuple[str, int]]:
    return [
        (item.title, reader.get_destination_page_number(item)) for item in reader.outline if not isinstance(item, list)
    ]


def image_draws(reader: PdfReader) -> list[int]:
    """How many images each page draws (following form XObjects), not merely lists in its resources."""

    def count(stream, resources) -> int:
        xobjects = resources.get("/XObject", {}) if resources else {}
        xobjects = xobjects.get_object() if hasattr(xobjects, "get_object") else xobjects
        drawn = 0
        for operands, operator in ContentStream(stream, reader).operations:
            if operator != b"Do":
                continue
            xobject = xobjects[operands[0]].get_object()
            if xobject["/Subtype"] == "/Image":
                drawn += 1
            elif xobject["/Subtype"] == "/Form":
                inner = xobject.get("/Resources")
                drawn += count(xobject, inner.get_object() if inner is not None else resources)
        return drawn

    return [count(page.get_contents(), page["/Resources"].get_object()) for page in reader.pages]


def link_uris(reader: PdfReader) -> list[str]:
    uris = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action.get_object():
                uris.append(str(action.get_object()["/URI"]))
    return uris
