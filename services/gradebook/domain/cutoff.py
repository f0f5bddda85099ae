"""After its reporting cutoff a record is effective and can no longer change through the school's system.

The province accepts a record's withdrawal or replacement only before the cutoff of its path (30 June; 15 August
for the supplementary path: a secondary student with a re-test or summer training, a grade 1–4 pupil re-assessed
over the summer; rules.md "After the year" and "Completion"). An amendment approved after it would be signed and
then refused by the province, so the gradebook refuses it first and says what the school does instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.gradebook.domain.errors import GradebookError

REGULAR, SUPPLEMENTARY = "regular", "supplementary"


class AmendmentAfterCutoff(GradebookError):
    http_status = 409
    slug = "amendment-after-cutoff"
    title = "The record is effective: amendments are closed"

    def __init__(self, school_year: str, cutoff: date) -> None:
        super().__init__(
            f"Học bạ năm học {school_year} của học sinh này đã có hiệu lực từ ngày {cutoff:%d/%m/%Y} (hạn báo cáo "
            "về cơ sở dữ liệu của Sở), nên không thể điều chỉnh bằng biên bản trên hệ thống. Theo quy trình của "
            "Sở Giáo dục và Đào tạo, nhà trường lập hồ sơ đề nghị điều chỉnh (biên bản, minh chứng, ý kiến của hiệu "
            "trưởng) gửi Sở; việc điều chỉnh học bạ đã có hiệu lực do Sở xem xét và thực hiện.",
            log=f"amendment after the {school_year} cutoff {cutoff.isoformat()}",
        )


class SummerAfterCutoff(GradebookError):
    http_status = 409
    slug = "summer-after-cutoff"
    title = "The reporting cutoff of the summer's records has passed"

    def __init__(self, school_year: str, cutoff: date) -> None:
        super().__init__(
            f"Đã quá hạn báo cáo {cutoff:%d/%m/%Y} của năm học {school_year}: kết quả sau kiểm tra lại, rèn luyện hè "
            "hoặc đánh giá bổ sung khóa sau ngày này không còn được báo cáo về cơ sở dữ liệu của Sở. Nhà trường "
            "liên hệ Sở Giáo dục và Đào tạo để được hướng dẫn.",
            log=f"summer lock after the {school_year} cutoff {cutoff.isoformat()}",
        )


def summer_path(grade: int) -> str:
    """The path the records a summer lock rebuilds travel on: supplementary (15 August) for a secondary student's
    re-test or summer training and a grade 1–4 pupil's supplementary assessment; regular (30 June) for grade 5,
    whose supplementary assessment seed 004 and the province keep on the 30 June path (supplementary.py)."""
    return REGULAR if grade == 5 else SUPPLEMENTARY


def reporting_path(year: Mapping[str, str | None]) -> str:
    """The student's path as the year's results decided it (results.py: supplementary when a summer re-test or
    training is due, TT22, or a grade 1–4 pupil is not yet complete, TT27); regular while nothing is decided."""
    return SUPPLEMENTARY if year.get("reporting_path") == SUPPLEMENTARY else REGULAR


def cutoff_of(school_year: str, path: str, cutoffs: Mapping[str, str]) -> date:
    """The day a school year's record of ``path`` becomes effective: "2025-2026", regular → 30 June 2026."""
    month, day = (int(x) for x in cutoffs[path].split("-"))
    return date(int(school_year.split("-")[1]), month, day)


@dataclass(frozen=True)
class ReportingCalendar:
    """The day it is (Vietnam's, or a rehearsal's) and the province's cutoffs (MM-DD per path)."""

    today: date
    cutoffs: Mapping[str, str]

    def check_amendable(self, school_year: str, path: str) -> None:
        """Refuse an amendment once the record's cutoff has passed (the cutoff day itself still counts)."""
        cutoff = cutoff_of(school_year, path, self.cutoffs)
        if self.today > cutoff:
            raise AmendmentAfterCutoff(school_year, cutoff)

    def check_summer_lock(self, school_year: str, grade: int) -> None:
        """Refuse a summer lock after the cutoff of the path its records travel (the cutoff day still counts): the
        records it rebuilds would be effective already, and the province refuses them."""
        cutoff = cutoff_of(school_year, summer_path(grade), self.cutoffs)
        if self.today > cutoff:
            raise SummerAfterCutoff(school_year, cutoff)
