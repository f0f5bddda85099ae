"""Reading an uploaded CSV or XLSX sheet into rows (column → value); the header row names the columns.

An upload is read within limits: at most ``max_rows`` rows, and an XLSX (a zip) is checked entry by entry before
openpyxl opens it, so a zip bomb is refused from its directory without being inflated. openpyxl parses the sheet's
XML with defusedxml (installed, so it uses it): no entity expansion.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sized
from itertools import islice
from typing import Any

from services.gradebook.domain.errors import GradebookError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MAX_ROWS = 5000
# A real workbook has a dozen or two entries and its sheet XML inflates 5-30 times; a roster of 5000 rows is a few
# MiB of XML. Ratios are checked only on entries large enough to matter.
XLSX_MAX_ENTRIES = 200
XLSX_MAX_UNCOMPRESSED = 64 << 20
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 1 << 20


class UnreadableFile(GradebookError):
    http_status = 415
    slug = "unreadable-file"
    title = "Unreadable file"


class TooManyRows(GradebookError):
    http_status = 413
    slug = "too-many-rows"
    title = "Too many rows in one import"

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            f"Mỗi lần nhập tối đa {max_rows} dòng; hãy chia tệp thành nhiều lần nhập.",
            log=f"import over {max_rows} rows",
        )
        self.max_rows = max_rows

    def problem_extensions(self) -> dict[str, object]:
        return {"max_rows": self.max_rows}


def check_row_count(rows: Sized, max_rows: int) -> None:
    """Refuse an import of more than ``max_rows`` rows (a JSON body's rows, already parsed within the body limit)."""
    if len(rows) > max_rows:
        raise TooManyRows(max_rows)


def _at_most(rows: Iterator[Any], max_rows: int) -> list[Any]:
    """The rows, reading one past the limit at most: a huge sheet is refused without being read whole."""
    taken = list(islice(rows, max_rows + 1))
    if len(taken) > max_rows:
        raise TooManyRows(max_rows)
    return taken


def check_xlsx_container(data: bytes) -> None:
    """Refuse an XLSX whose zip would inflate beyond reason, from its central directory only.

    The declared sizes can be trusted as bounds: Python's zipfile, which openpyxl reads through, stops each entry at
    its declared size (and fails its CRC if the data says otherwise).
    """
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnreadableFile("Không đọc được tệp Excel (.xlsx).") from None
    if len(entries) > XLSX_MAX_ENTRIES:
        raise UnreadableFile(f"Tệp Excel có quá nhiều thành phần (tối đa {XLSX_MAX_ENTRIES}).")
    if sum(e.file_size for e in entries) > XLSX_MAX_UNCOMPRESSED:
        raise UnreadableFile(
            f"Tệp Excel khi giải nén vượt quá {XLSX_MAX_UNCOMPRESSED >> 20} MiB; hãy chia thành nhiều tệp."
        )
    for entry in entries:
        if entry.file_size > XLSX_RATIO_FROM and entry.file_size > XLSX_MAX_RATIO * max(
            entry.compress_size, 1
        ):
            raise UnreadableFile("Tệp Excel có tỷ lệ nén bất thường (nghi là tệp nén độc hại); không đọc.")


def rows_from_upload(
    content_type: str, data: bytes, *, max_rows: int = DEFAULT_MAX_ROWS
) -> list[dict[str, Any]]:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        try:
            text = data.decode("utf-8-sig")  # Excel writes a BOM in "CSV UTF-8"
        except UnicodeDecodeError:
            raise UnreadableFile("Tệp CSV phải được lưu với bảng mã UTF-8.") from None
        if (
            "\x00" in text
        ):  # csv reads it (since 3.11); PostgreSQL's text cannot hold it (a 500 at the insert)
            raise UnreadableFile("Tệp CSV chứa ký tự NUL: hãy lưu lại tệp dưới dạng CSV UTF-8.")
        reader = csv.DictReader(io.StringIO(text))
        return [{(k or "").strip(): v for k, v in row.items()} for row in _at_most(reader, max_rows)]
    if kind == XLSX:
        from openpyxl import load_workbook

        check_xlsx_container(data)
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            sheet_rows = sheet.iter_rows(values_only=True)
            header_row = next(sheet_rows, None)
            if header_row is None:
                return []
            body = (r for r in sheet_rows if any(v is not None for v in r))
            rows = _at_most(body, max_rows)
        except TooManyRows:
            raise
        except Exception:  # noqa: BLE001 - any parse failure is the same answer to the clerk
            raise UnreadableFile("Không đọc được tệp Excel (.xlsx).") from None
        header = [str(h).strip() if h is not None else "" for h in header_row]
        return [dict(zip(header, r, strict=False)) for r in rows]
    raise UnreadableFile("Chỉ nhận tệp CSV (text/csv), Excel (.xlsx) hoặc JSON.")
