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
