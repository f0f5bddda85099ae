"""The 12-digit personal identification number: its shape and its consistency with birth year and sex."""

from __future__ import annotations

import re
from datetime import date

_SHAPE = re.compile(r"^\d{12}$")

# 4th digit: century of birth and sex — 0/1 the 1900s, 2/3 the 2000s, 4/5 the 2100s, …; even male, odd female.
_CENTURIES = {0: 1900, 2: 2000, 4: 2100, 6: 2200, 8: 2300}


def personal_id_problem(personal_id: str, birth: date, gender: str) -> str | None:
    """None when consistent; otherwise the reason in Vietnamese (never quoting the number itself)."""
    if not _SHAPE.match(personal_id):
        return "Số định danh cá nhân phải gồm đúng 12 chữ số."
    code = int(personal_id[3])
    century = _CENTURIES[code - code % 2]
    female = code % 2 == 1
    year = century + int(personal_id[4:6])
    if year != birth.year:
        return "Số định danh cá nhân không khớp với năm sinh."
    if gender in ("Nam", "Nữ") and female != (gender == "Nữ"):
        return "Số định danh cá nhân không khớp với giới tính."
    return None
