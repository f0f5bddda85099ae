"""Cutoff dates, record status and visibility: decisions as plain functions, so they are unit-tested alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sandbox.gateway.domain import errors

Assessment = Literal["regular", "supplementary"]
ASSESSMENTS: tuple[Assessment, ...] = ("regular", "supplementary")
SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
LOOKUP_CODE = re.compile(r"^[0-9a-f]{32}$")
# Grades whose students may be reported on the 15 August path: grades 1–4 after the summer's supplementary assessment
# (TT27, seed 004 §2.1), and secondary students after a re-test or summer training (TT22 art. 12–14; the project's
# decision after seed 003, rules.md "After the year"). Grade 5 is not among them: seed 004 names grades 1–4 only.
SUPPLEMENTARY_GRADES = (*range(1, 5), *range(6, 13))


@dataclass(frozen=True)
class Cutoffs:
    """Month and day, in the end year of the school year, of the last day changes are accepted."""

    regular: tuple[int, int] = (6, 30)
    supplementary: tuple[int, int] = (8, 15)

    @classmethod
    def parse(cls, regular: str, supplementary: str) -> Cutoffs:
        def md(text: str) -> tuple[int, int]:
            month, day = (int(p) for p in text.split("-"))
            date(2000, month, day)  # raises on 02-31 and the like (2000 is a leap year, so 02-29 passes)
            return month, day

        return cls(md(regular), md(supplementary))

    def of(self, school_year: str, assessment: Assessment) -> date:
        """The cutoff of ``school_year`` ("2025-2026") for ``assessment``: a date in the end year."""
        match = SCHOOL_YEAR.match(school_year)
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise errors.BodyInvalid(
                f"Năm học “{school_year}” không đúng dạng YYYY-YYYY (hai năm liên tiếp)."
            )
        month, day = self.regular if assessment == "regular" else self.supplementary
        return date(int(match.group(2)), month, day)


def vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def check_before_cutoff(today: date, cutoff: date, action_vi: str) -> None:
    """The cutoff day itself still accepts changes; from the day after, the current version is effective."""
    if today > cutoff:
        raise errors.CutoffPassed(
            f"Đã quá hạn chót ngày {vn_date(cutoff)}: không thể {action_vi}. "
            "Phiên bản hiện hành đã có hiệu lực và không thể thay đổi.",
            cutoff=cutoff.isoformat(),
        )


def check_assessment(assessment: str, grade: int) -> Assessment:
    if assessment not in ASSESSMENTS:
        raise errors.BodyInvalid("Trường “assessment” phải là “regular” hoặc “supplementary”.")
    if assessment == "supplementary" and grade not in SUPPLEMENTARY_GRADES:
        raise errors.SupplementaryNotAllowed(
            "Chỉ học sinh lớp 1 đến lớp 4 (đánh giá bổ sung trong hè) và học sinh trung học sau kiểm tra lại hoặc "
            f"rèn luyện trong hè mới được báo cáo theo đợt bổ sung (lớp {grade})."
        )
    return assessment  # type: ignore[return-value]


def public_status(stored: str, today: date, cutoff: date) -> str:
    """What callers see: the current version becomes ``effective`` once its cutoff has passed."""
    if stored == "current" and today > cutoff:
        return "effective"
    return stored


def check_new_version(current_version: int, new_version: int, same_year_record: bool) -> None:
    """A replacement is the same student's same school year, with a higher version than the one it replaces."""
    if not same_year_record:
        raise errors.IdentityMismatch(
            "Bản thay thế phải là bản ghi của cùng học sinh (cùng mã học bạ) và cùng năm học."
        )
    if new_version <= current_version:
        raise errors.IdentityMismatch(
            f"Bản thay thế phải có phiên bản lớn hơn {current_version} (nhận được {new_version})."
        )


def normalise_lookup_code(raw: str) -> str | None:
    """Readers type codes with spaces, dashes or capitals (as printed); anything else is not a code."""
    code = re.sub(r"[\s-]", "", raw or "").lower()
    return code if LOOKUP_CODE.match(code) else None


def history_line(
    version: int, replaced_version: int | None, status: str, day: date, reason: str | None
) -> str:
    """One line of a record's public history, in the words the portal shows."""
    if status == "withdrawn":
        text = f"Phiên bản {version} đã bị thu hồi ngày {vn_date(day)}"
        return text + (f", lý do: {reason}" if reason else "")
    if replaced_version is not None:
        text = f"Phiên bản {version} thay thế phiên bản {replaced_version} ngày {vn_date(day)}"
        return text + (f", lý do: {reason}" if reason else "")
    return f"Phiên bản {version} được tiếp nhận ngày {vn_date(day)}"
