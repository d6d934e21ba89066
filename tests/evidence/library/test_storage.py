"""Uploads are checked by their content and stored under their hash, never under the user's name."""

import hashlib
import io
import os
import re
import zipfile

import openpyxl
import pytest

from evidence.library import storage
from evidence.library.storage import UploadError
from tests import office_samples

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
RANDOM = bytes(range(256)) * 8


def office_zip(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<xml/>")
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Quarter"
    workbook.save(buffer)
    return buffer.getvalue()


DOCX = office_zip("[Content_Types].xml", "_rels/.rels", "word/document.xml")


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("chart.PNG", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("policy.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("figures.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("figures.csv", b"quarter,value\n2026 Q1,61\n", "text/csv"),
        ("windows.csv", "place,value\nCaf\u00e9,3\n".encode("cp1252"), "text/csv"),
        ("bom.csv", "\ufeffa,b\r\n1,2\r\n".encode(), "text/csv"),
    ],
)
def test_files_that_are_what_they_say_are_stored_under_their_hash(tmp_path, name, data, content_type):
    stored = storage.store(data, name, tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == digest
    assert stored.content_type == content_type
    assert stored.original_name == name
    assert stored.size == len(data)
    path = storage.path_for(tmp_path, digest)
    assert path == tmp_path / digest[:2] / digest
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("report.pdf", EXE, "named as a PDF but its content is a .exe file"),
        ("report.pdf", RANDOM, "named as a PDF but its content is"),
        ("report.pdf", PNG, "named as a PDF but its content is a .png file"),
        ("photo.jpg", PNG, "named as a JPEG image"),
        ("policy.docx", xlsx_bytes(), "not an Office document of that kind"),
        ("figures.xlsx", DOCX, "not an Office document of that kind"),
        ("policy.docx", office_zip("notes.txt"), "not an Office document of that kind"),
        ("policy.docx", PDF, "named as a Word document (DOCX) but its content is a .pdf file"),
        ("data.csv", EXE, "named as a CSV file but its content is a .exe file"),
        ("data.csv", b"a,b\n\x00\x01\x02\x03", "binary data rather than text"),
        ("data.csv", DOCX, "named as a CSV file but its content is a .docx file"),
    ],
)
def test_disguised_files_are_refused_and_nothing_is_written(tmp_path, name, data, says):
    with pytest.raises(UploadError, match=re.escape(says)):
        storage.store(data, name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["setup.exe", "script.sh", "noextension", "page.html", "archive.zip"])
def test_file_types_outside_the_list_are_refused(tmp_path, name):
    with pytest.raises(UploadError, match=re.escape("not a file type the portal accepts. Upload a PDF")):
        storage.store(PDF, name, tmp_path)


def test_empty_files_are_refused(tmp_path):
    with pytest.raises(UploadError, match=re.escape("“empty.pdf” is empty")):
        storage.store(b"", "empty.pdf", tmp_path)


def test_a_stream_over_the_limit_is_refused_without_reading_it_all(tmp_path):
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            self.reads += 1
            buffer[: len(buffer)] = b"%" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(UploadError, match="larger than the limit of 1 MB"):
        storage.store(io.BufferedReader(stream), "big.pdf", tmp_path, max_bytes=1024 * 1024)
    assert stream.reads < 100
    assert list(tmp_path.iterdir()) == []


def test_the_users_file_name_is_never_a_path(tmp_path):
    stored = storage.store(PDF, "../../etc/cron.d/report.pdf", tmp_path)
    assert stored.original_name == "report.pdf"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [stored.sha256]
    assert storage.clean_name("C:\\Users\\me\\Desktop\\plan.docx") == "plan.docx"
    assert storage.clean_name("bad\x00name\x07.pdf") == "badname.pdf"
    with pytest.raises(ValueError):
        storage.path_for(tmp_path, "../../etc/passwd")


def test_the_same_content_is_stored_once(tmp_path):
    first = storage.store(PDF, "a.pdf", tmp_path)
    second = storage.store(PDF, "copy of a.pdf", tmp_path)
    assert first.sha256 == second.sha256
    assert second.original_name == "copy of a.pdf"
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1
    assert not [p for p in tmp_path.rglob(".upload-*")]
    assert os.listdir(tmp_path / first.sha256[:2]) == [first.sha256]


@pytest.mark.parametrize("case", list(office_samples.HOSTILE))
def test_office_files_are_checked_by_content_as_imports_check_them(tmp_path, case):
    name, content, says = office_samples.HOSTILE[case]
    with pytest.raises(UploadError, match=re.escape(says)) as refused:
        storage.store(content(), name, tmp_path)
    assert str(refused.value).startswith(f"“{name}”")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content"), [("policy.docx", office_samples.real_docx), ("figures.xlsx", office_samples.real_xlsx)]
)
def test_real_office_files_are_stored(tmp_path, name, content):
    data = content()
    stored = storage.store(data, name, tmp_path)
    assert storage.path_for(tmp_path, stored.sha256).read_bytes() == data
    assert stored.content_type == storage.ALLOWED_TYPES[name.rsplit(".", 1)[1]][1]


def test_a_zip_bomb_is_refused_by_its_directory_before_anything_is_unpacked(tmp_path, monkeypatch):
    name, content, _ = office_samples.HOSTILE["zip bomb named .xlsx"]
    data = content()
    assert len(data) < 100_000
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("a part was unpacked"))
    with pytest.raises(UploadError, match="zip bomb"):
        storage.store(data, name, tmp_path)
