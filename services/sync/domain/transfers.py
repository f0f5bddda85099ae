"""Chuyển trường: who may ask for a student's học bạ, who decides, and what each decision leaves behind.

A transfer is two-sided. The receiving school asks with what the family brings: the sending school's id and the
học bạ's lookup code (mã số tra cứu, printed and in the QR on every page of the học bạ). A clerk at the receiving
school has no other handle on the student: the sending school's student id is that school's internal id, never
printed for the family, and accepting it would let any school enumerate another school's pupils. The sending
school's principal approves or refuses; only an approval hands the học bạ over.
"""

from __future__ import annotations

import re
from typing import Literal

Status = Literal["pending", "approved", "refused"]
STATUS_VI: dict[str, str] = {"pending": "đang chờ", "approved": "đã đồng ý", "refused": "đã từ chối"}

# One text for "no such học bạ", "not held by the school you named" and "nothing the province holds yet": the
# receiving school learns nothing about a code it names at the wrong school.
NOT_FOUND_VI = (
    "Không tìm thấy học bạ có mã số tra cứu này tại trường đã nêu. "
    "Hãy kiểm tra lại mã số tra cứu trên học bạ và mã trường chuyển đi."
)
REQUEST_NOT_FOUND_VI = "Không tìm thấy yêu cầu chuyển trường này."
SAME_SCHOOL_VI = "Trường chuyển đi và trường tiếp nhận phải là hai trường khác nhau."

_HEX32 = re.compile(r"[0-9a-f]{32}")


def normalise_lookup_code(raw: str) -> str | None:
    """The lookup code as stored (32 lowercase hex digits), from how people type or scan it; None if malformed.

    Families read it off paper, so hyphens (the UUID's spelling), spaces and capitals are forgiven.
    """
    code = re.sub(r"[\s-]", "", raw).lower()
    return code if _HEX32.fullmatch(code) else None


def already_decided(status: str) -> str | None:
    """Why a request can no longer be decided (Vietnamese), or None while it waits."""
    if status == "pending":
        return None
    return f"Yêu cầu chuyển trường này đã được xử lý ({STATUS_VI.get(status, status)})."
