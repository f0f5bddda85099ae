"""Reporting rules: cutoffs per school year, what a gateway answer means, how long to wait before trying again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.sync.domain.errors import CutoffPassed

Assessment = Literal["regular", "supplementary"]
Outcome = Literal["accepted", "rejected", "transient", "already_there"]

# The province's dates (configurable): students who completed the year by 30 June; grade 1–4 students who were
# reported after the summer supplementary assessment by 15 August.
DEFAULT_CUTOFFS = {"regular": "06-30", "supplementary": "08-15"}


def cutoff_for(school_year: str, assessment: str, cutoffs: dict[str, str] | None = None) -> date:
    month, day = (int(x) for x in (cutoffs or DEFAULT_CUTOFFS)[assessment].split("-"))
    return date(int(school_year.split("-")[1]), month, day)


def check_before_cutoff(today: date, cutoff: date, action: str) -> None:
    """Refuse locally, before calling the gateway, with a message the principal can act on."""
    if today > cutoff:
        raise CutoffPassed(
            f"Không thể {action}: đã quá hạn báo cáo ngày {cutoff:%d/%m/%Y}. "
            "Bản ghi đã có hiệu lực và không thể thay đổi; liên hệ Sở Giáo dục và Đào tạo nếu cần điều chỉnh."
        )


def assessment_of(grade: int, reporting_path: str) -> Assessment:
    """The gateway's ``assessment`` for a record: its reporting path as assembled (the gradebook decides it from the
    year's results), never for grade 5, which has no 15 August path (seed 004 §2.1)."""
    return "supplementary" if reporting_path == "supplementary" and grade != 5 else "regular"


def classify(status_code: int | None, reason: str | None) -> Outcome:
    """``status_code`` None means no answer at all (timeout, dropped connection)."""
    if status_code is None or status_code >= 500 or status_code in (408, 429):
        return "transient"
    if status_code in (200, 201):
        return "accepted"
    if reason == "duplicate_record":
        return "already_there"  # the gateway holds this version: an earlier try got through
    if status_code == 401:
        return "transient"  # credentials can be fixed without losing the submission
    return "rejected"


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: retries of many records spread out instead of arriving together."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)
