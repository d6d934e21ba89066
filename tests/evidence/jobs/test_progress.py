"""A job's progress is written at once for a new stage or the end, otherwise at most twice a second; outside a
job, reporting does nothing."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook

from evidence.imports.reading import rows_in
from evidence.jobs import progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_is_throttled_but_stages_and_the_end_are_written_at_once():
    written, clock = [], Clock()
    reporter = progress.Reporter(lambda *state: written.append(state), clock=clock)
    with reporter.active():
        progress.report(0, 1000, "Reading")
        for done in range(1, 1000):
            clock.now += 0.001  # a row a millisecond: a second in all
            progress.report(done)
        progress.report(1000, stage="Writing")
        progress.report(1000)
    assert written[0] == (0, 1000, "Reading")
    assert written[-1] == (1000, 1000, "Writing")
    reading = [w for w in written if w[2] == "Reading"]
    assert 2 <= len(reading) <= 3  # the start, then every half second of the second it took
    assert [d for d, _, _ in written] == sorted(d for d, _, _ in written)


def test_reporting_outside_a_job_does_nothing():
    progress.report(5, 10, "Anything")  # no reporter: no error, nothing written


def test_the_rows_of_a_file_are_counted_without_reading_its_cells():
    assert rows_in(b"a,b\r\n1,2\r\n3,4\r\n", "csv") == 3
    assert rows_in(b"a,b\n1,2", "csv") == 2
    workbook = Workbook()
    for n in range(2500):
        workbook.active.append([n, "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert rows_in(buffer.getvalue(), "xlsx") == 2500
    assert rows_in(without_dimension(buffer.getvalue()), "xlsx") == 2500  # a program that wrote no range
    assert rows_in(b"not a zip", "xlsx") == 0


def without_dimension(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                content = re.sub(rb"<dimension [^>]*/>", b"", content)
                assert b"<dimension" not in content
            target.writestr(info, content)
    return out.getvalue()
