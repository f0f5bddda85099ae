"""Reading an uploaded CSV or XLSX sheet into rows (column → value); the header row names the columns."""

from __future__ import annotations

import csv
import io
from typing import Any

from services.gradebook.domain.errors import GradebookError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UnreadableFile(GradebookError):
    http_status = 415
    slug = "unreadable-file"
    title = "Unreadable file"


def rows_from_upload(content_type: str, data: bytes) -> list[dict[str, Any]]:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        try:
            text = data.decode("utf-8-sig")  # Excel writes a BOM in "CSV UTF-8"
        except UnicodeDecodeError:
            raise UnreadableFile("Tệp CSV phải được lưu với bảng mã UTF-8.") from None
        reader = csv.DictReader(io.StringIO(text))
        return [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    if kind == XLSX:
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        except Exception:  # noqa: BLE001 - any parse failure is the same answer to the clerk
            raise UnreadableFile("Không đọc được tệp Excel (.xlsx).") from None
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            return []
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]
    raise UnreadableFile("Chỉ nhận tệp CSV (text/csv), Excel (.xlsx) hoặc JSON.")
