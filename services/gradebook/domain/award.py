"""Awards (khen thưởng): the principal's decision to give a student a title for the school year, if the year allows it.

The circulars give the titles and the results each needs (rules.md "Awards"):
- TT22 art. 15 (secondary): *Học sinh Xuất sắc* — year conduct Tốt, year learning Tốt and at least 6 subjects with
  ĐTBmcn ≥ 9.0; *Học sinh Giỏi* — year conduct and learning Tốt.
- TT27 art. 13 (primary): *Học sinh Xuất sắc* — Hoàn thành xuất sắc; *Học sinh Tiêu biểu hoàn thành tốt trong học
  tập và rèn luyện* — Hoàn thành tốt, with an outstanding subject or clear progress, recognised by the class.

Project decisions where the circulars are silent (written here and in the issue's note):
- The rules compute what the year's results allow (``year["award"]``: tt22.award, tt27.award); the principal's
  decision is what the học bạ prints. A student is never printed with a title the principal did not give, and never
  given one the results do not allow: *Xuất sắc* needs the results the rules call Xuất sắc; *Giỏi* needs conduct and
  learning Tốt (a student the rules call Xuất sắc may be given Giỏi: art. 15 does not forbid it, the principal
  decides); *Tiêu biểu* needs exactly Hoàn thành tốt (a Hoàn thành xuất sắc pupil is Học sinh Xuất sắc, art. 13 §1a).
- The outstanding subject or progress and the class's recognition for *Tiêu biểu* are facts no rule can check: the
  principal states them in the decision's reason, which the audit log keeps.
- One title per student and school year (the circulars give one "danh hiệu"); the principal revokes it, with a
  reason, before giving another.
- The titles are judged on the year-end results (the ones the year's lock seals), not those after a re-test or
  summer training: a student sent to either has no year conduct and learning Tốt anyway.
- An award is decided before the year's lock (term II) and travels in that lock's snapshot. After it the year is
  sealed: the principal unlocks term II (with a reason, audited; refused after the summer lock), decides and locks
  again, so the học bạ gets a new version. Marks can change until the lock, so the lock checks each award again and
  refuses while one no longer fits the results, naming the student and why (the school-wide lock lists such classes
  and locks the others).
- After the lock only an approved amendment (biên bản điều chỉnh) changes results: an award the amended results no
  longer allow is revoked with it, audited under the approving principal with the amendment as the reason, and the
  answer names it (app/awards.py ``revoke_unfit``). An amendment never gives a title: the principal unlocks for that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.gradebook.domain.errors import GradebookError

Kind = Literal["xuat_sac", "gioi", "tieu_bieu"]
TITLES: dict[str, str] = {
    "xuat_sac": "Học sinh Xuất sắc",
    "gioi": "Học sinh Giỏi",
    "tieu_bieu": "Học sinh Tiêu biểu hoàn thành tốt trong học tập và rèn luyện",
}
# The titles each circular gives (TT22 art. 15, TT27 art. 13).
KINDS_OF: dict[str, tuple[str, ...]] = {"tt22": ("xuat_sac", "gioi"), "tt27": ("xuat_sac", "tieu_bieu")}
CIRCULAR = {"tt22": "Điều 15 Thông tư 22", "tt27": "Điều 13 Thông tư 27"}


@dataclass(frozen=True, slots=True)
class Award:
    id: str
    school_id: str
    class_id: str
    student_id: str
    kind: str
    reason: str
    decided_by: str
    decided_at: datetime

    @property
    def title(self) -> str:
        return TITLES[self.kind]


class AwardRefused(GradebookError):
    http_status = 422
    slug = "award-refused"
    title = "Award refused"


class AwardAlreadyDecided(GradebookError):
    http_status = 409
    slug = "award-already-decided"
    title = "Award already decided"


class AwardNoLongerFits(GradebookError):
    """Term II's lock: an award decided earlier that the year's final results no longer allow (a mark changed)."""

    http_status = 409
    slug = "award-no-longer-fits"
    title = "Award no longer fits the year's results"

    def __init__(self, class_id: str, unfit: list[tuple[str, str, str]]) -> None:
        listed = "; ".join(f"{student}: {title} — {why}" for student, title, why in unfit)
        super().__init__(
            f"Chưa thể khóa học kỳ II: khen thưởng không còn phù hợp kết quả cả năm — {listed}. "
            "Hãy hủy khen thưởng đó (có lý do) rồi khóa lại.",
            log=f"{class_id} hk2: {len(unfit)} awards no longer fit",
        )
        self.unfit = unfit

    def problem_extensions(self) -> dict[str, object]:
        return {"awards_unfit": [{"student": s, "title": t, "reason": why} for s, t, why in self.unfit]}


def refusal(kind: str, circular: str, year: Mapping[str, str | None]) -> str | None:
    """Why the year's results (``StudentResults.year``: the rules' computed values) do not allow the title ``kind``
    under ``circular`` — in Vietnamese, for the principal — or None when they do."""
    where = CIRCULAR[circular]
    if kind not in KINDS_OF[circular]:
        given = ", ".join(TITLES[k] for k in KINDS_OF[circular])
        return f"Danh hiệu “{TITLES.get(kind, kind)}” không có trong {where}; chỉ có: {given}."
    title = TITLES[kind]
    if circular == "tt27":
        result = year.get("year_result")
        if not result:
            return f"Học sinh chưa có kết quả giáo dục cả năm: chưa thể khen {title}."
        needed = "Hoàn thành xuất sắc" if kind == "xuat_sac" else "Hoàn thành tốt"
        if result != needed:
            return f"Chưa đủ điều kiện {title} ({where}): kết quả giáo dục cả năm {result}, cần {needed}."
        return None
    conduct, learning, computed = year.get("conduct"), year.get("learning_result"), year.get("award")
    if not conduct or not learning or "promotion" not in year:
        return f"Học sinh chưa có đủ kết quả rèn luyện và học tập cả năm: chưa thể khen {title}."
    if kind == "gioi" and computed in ("Học sinh Xuất sắc", "Học sinh Giỏi"):
        return None
    if kind == "xuat_sac" and computed == "Học sinh Xuất sắc":
        return None
    needed = (
        "rèn luyện Tốt, học tập Tốt và ít nhất 6 môn có ĐTBmcn từ 9,0 trở lên"
        if kind == "xuat_sac"
        else "rèn luyện Tốt và học tập Tốt"
    )
    allowed = f"; kết quả cả năm cho phép {computed}" if computed else ""
    return (
        f"Chưa đủ điều kiện {title} ({where}): rèn luyện cả năm {conduct}, học tập cả năm {learning}{allowed}; "
        f"cần {needed}."
    )


def check_new(new: Award, existing: list[Award], circular: str, year: Mapping[str, str | None]) -> None:
    """One title per student and school year; and only one the year's results allow."""
    for old in existing:
        if old.student_id == new.student_id:
            raise AwardAlreadyDecided(
                f"Học sinh đã được khen {old.title} trong năm học này. "
                "Hãy hủy quyết định đó (có lý do) trước khi ghi khen thưởng khác.",
                log=f"award {old.id} already decided",
            )
    why = refusal(new.kind, circular, year)
    if why is not None:
        raise AwardRefused(why)
