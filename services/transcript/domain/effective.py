"""The record's effective date (ngày hiệu lực): the reporting cutoff of its path (rules.md, seed 004 §1.2, §2.1)."""

from __future__ import annotations

from datetime import date

DEFAULT_CUTOFFS = {"regular": "06-30", "supplementary": "08-15"}
# TT22 art. 12–14 outcomes that send a secondary student through the summer before the decision is final.
SUMMER_OUTCOMES = ("kiểm tra lại", "rèn luyện trong kì nghỉ hè")


def supplementary(grade: int, year_result: str | None, promotion: str | None) -> bool:
    """Reported on the 15 August path: a grade 1–4 pupil not confirmed complete (supplementary teaching over the
    summer), or a secondary student with a re-test or summer training (re-evaluated before 15 August)."""
    if grade <= 5:
        return grade <= 4 and year_result is not None and year_result == "Chưa hoàn thành"
    return promotion is not None and any(outcome in promotion for outcome in SUMMER_OUTCOMES)


def reporting_path(year: dict[str, str | None], grade: int) -> str:
    """The path the gradebook decided with the year's results (its snapshot's ``reporting_path``); for a snapshot
    published before the gradebook decided it (a lock replayed from a dead-letter queue), the same rule from the
    promotion or the TT27 result."""
    decided = year.get("reporting_path")
    if decided in ("regular", "supplementary"):
        return str(decided)
    return (
        "supplementary" if supplementary(grade, year.get("year_result"), year.get("promotion")) else "regular"
    )


def effective_date(school_year: str, path: str, cutoffs: dict[str, str] | None = None) -> date:
    """30 June of the school year's second calendar year, or 15 August on the supplementary path (configurable)."""
    month, day = (int(x) for x in (cutoffs or DEFAULT_CUTOFFS)[path].split("-"))
    return date(int(school_year.split("-")[1]), month, day)
