"""What the public portal may show of a record, and the birth-date check that releases its signed PDF."""

from __future__ import annotations

import hmac
import re
from datetime import date

# Words of the published XML's TT27 codes (Circular 27/2020, art. 8): the portal shows them as the paper does.
QUALITY_NAMES = {
    "yeu_nuoc": "Yêu nước",
    "nhan_ai": "Nhân ái",
    "cham_chi": "Chăm chỉ",
    "trung_thuc": "Trung thực",
    "trach_nhiem": "Trách nhiệm",
}
COMPETENCY_NAMES = {
    "tu_chu_tu_hoc": "Tự chủ và tự học",
    "giao_tiep_hop_tac": "Giao tiếp và hợp tác",
    "giai_quyet_van_de": "Giải quyết vấn đề và sáng tạo",
    "ngon_ngu": "Ngôn ngữ",
    "tinh_toan": "Tính toán",
    "khoa_hoc": "Khoa học",
    "cong_nghe": "Công nghệ",
    "tin_hoc": "Tin học",
    "tham_mi": "Thẩm mĩ",
    "the_chat": "Thể chất",
}
TRAIT_LEVELS = {"T": "Tốt", "Đ": "Đạt", "C": "Cần cố gắng"}
ROLE_WORDS = {
    "subject_teacher": "Giáo viên bộ môn",
    "homeroom_teacher": "Giáo viên chủ nhiệm",
    "principal": "Hiệu trưởng",
    "school_seal": "Dấu của nhà trường",
}
_DATE_VN = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_DATE_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def trait(names: dict[str, str], code: str, level: str) -> tuple[str, str]:
    """A quality or competency as printed: its Vietnamese name and level (an unknown code stays as sent)."""
    return names.get(code, code), TRAIT_LEVELS.get(level, level)


def mask_personal_id(personal_id: str) -> str:
    """The last three digits only: enough for the holder to recognise the record, useless to anyone else."""
    digits = personal_id.strip()
    return "" if not digits else "*" * max(0, len(digits) - 3) + digits[-3:]


def parse_birth_date(text: str) -> date | None:
    """``dd/mm/yyyy`` as a reader types it from the paper, or ``yyyy-mm-dd`` as a date field sends it."""
    match = _DATE_VN.match(text or "")
    if match:
        day, month, year = (int(g) for g in match.groups())
    elif match := _DATE_ISO.match(text or ""):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def birth_date_matches(given: date | None, recorded: date | None) -> bool:
    """Compared in constant time, so the answer's timing tells nothing about how close a guess was."""
    expected = recorded.isoformat() if recorded else ""
    offered = given.isoformat() if given else "0000-00-00"
    return bool(expected) and hmac.compare_digest(offered.encode(), expected.encode())
