"""The upload reader's limits: an XLSX is judged by its zip directory before openpyxl opens it; rows stop at the limit."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from services.gradebook.app.uploads import (
    XLSX,
    TooManyRows,
    UnreadableFile,
    check_xlsx_container,
    rows_from_upload,
)


def _workbook(rows: int = 1) -> bytes:
    book = Workbook()
    book.active.append(["teacher_id", "full_name"])
    for n in range(rows):
        book.active.append([f"gv-{n}", f"Trần Thị {n}"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _with_extra(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_workbook())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for item in source.infolist():
            z.writestr(item, source.read(item))
        for name, content in entries.items():
            z.writestr(name, content)
    return out.getvalue()


def test_a_real_workbook_passes_and_is_read():
    check_xlsx_container(_workbook(200))
    assert len(rows_from_upload(XLSX, _workbook(200))) == 200


def test_an_entry_that_inflates_a_thousand_fold_is_refused_though_small_in_total():
    bomb = _with_extra({"xl/media/zeros.bin": b"\0" * (8 << 20)})  # 8 MiB: under the total, not the ratio
    with pytest.raises(UnreadableFile, match="tỷ lệ nén bất thường"):
        check_xlsx_container(bomb)


def test_too_many_entries_or_not_a_zip_is_refused():
    with pytest.raises(UnreadableFile, match="quá nhiều thành phần"):
        check_xlsx_container(_with_extra({f"xl/junk/{n}.xml": b"<a/>" for n in range(300)}))
    with pytest.raises(UnreadableFile, match="Không đọc được"):
        rows_from_upload(XLSX, b"PK\x03\x04 not really a zip")


def test_rows_past_the_limit_are_refused_for_csv_and_xlsx():
    csv = b"teacher_id,full_name\n" + b"".join(f"gv-{n},A\n".encode() for n in range(11))
    assert len(rows_from_upload("text/csv", csv, max_rows=11)) == 11
    for content_type, data in (("text/csv", csv), (XLSX, _workbook(11))):
        with pytest.raises(TooManyRows) as refused:
            rows_from_upload(content_type, data, max_rows=10)
        assert "tối đa 10 dòng" in refused.value.detail_vi


def test_a_csv_with_a_nul_character_is_unreadable_not_sent_to_the_database():
    with pytest.raises(UnreadableFile, match="NUL"):
        rows_from_upload("text/csv", "teacher_id,full_name\ngv-1,Trần\x00Thị\n".encode())
    assert rows_from_upload("text/csv", "teacher_id,full_name\ngv-1,Trần Thị\n".encode()) == [
        {"teacher_id": "gv-1", "full_name": "Trần Thị"}
    ]
