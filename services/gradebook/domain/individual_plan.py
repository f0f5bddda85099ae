"""Individual education plans (kế hoạch giáo dục cá nhân): the principal's decision that a student with disabilities
is assessed, in the subjects the plan names, against the plan's requirements; the other subjects as usual.

Legal basis. TT22 art. 10 (secondary, "Đánh giá học sinh khuyết tật"): a student with disabilities in inclusive
education is assessed like other students with the requirements adjusted to the individual education plan; the
subjects in which the student can meet the general programme are assessed as for other students, those in which the
student cannot are assessed against the plan's requirements. TT27's article on pupils with disabilities (primary)
says the same for subjects and activities (its article number is not quoted here: rules.md does not give it and it
was not checked against the circular's text). Teachers draw the plan up with the family under the inclusive-education
rules (Thông tư 03/2018/TT-BGDĐT) and the head of the school approves it: here that approval is the principal's
decision, recorded with its reference and audited like an exemption (project reading).

Decisions (the circular wins over rules.md where they differ):
- *How a plan subject is assessed.* rules.md's "Cases every school has" says the teacher records "Đạt / Chưa đạt or
  the plan's own levels". The circular does not change the form of assessment: it adjusts the *requirements* ("đánh
  giá như đối với học sinh không khuyết tật có điều chỉnh yêu cầu"). So a plan subject keeps its own form — scores
  0–10 for a scored subject, Đ/CĐ for a comment-only one, T/H/C and the periodic test in primary — but each value
  measures the plan's requirements, not the general programme's. No Đ/CĐ in place of scores: that would be the
  repealed Circular 58's "no classification" for such students, which TT22 dropped.
- *The year's results* are then computed by the same rules (TT22 art. 8–9, TT27 art. 9) from those values, the
  explanation naming the plan and its subjects; the conduct (rèn luyện) is set by the homeroom teacher as for every
  student (art. 8 has no plan of its own), and its explanation names the plan too, since the homeroom teacher
  assesses it with the plan in view (art. 10 §1: encourage, record progress).
- *What the teacher must write.* Art. 10 asks that the assessment records the student's progress against the plan:
  a plan subject's term that is complete (its end-of-term assessment, or a primary level) must carry the teacher's
  comment (nhận xét), so the record says what the plan asked and what the student reached. Marks entry refuses such
  a term without it; a term entered before the plan was recorded is a gap the year's lock lists (``plan_gaps``),
  like a missing result, which the principal may accept with a reason.
- *One plan per student per school year* (the class is the year), naming one or more subjects the class studies;
  it covers both terms, so it is recorded before either term is locked (a locked term changes only by an approved
  amendment); the principal withdraws it (audited, with the reason) to change it.
- Primary pupils are included (unlike exemptions, which are TT22's only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.gradebook.domain.errors import GradebookError
from services.gradebook.domain.explain import TERM_LABEL
from services.gradebook.domain.term_lock import MissingResult

PLAN_LABEL = "Học theo kế hoạch giáo dục cá nhân"
BASIS = {
    "tt22": "Điều 10 Thông tư 22/2021/TT-BGDĐT",
    "tt27": "Thông tư 27/2020/TT-BGDĐT, đánh giá học sinh khuyết tật",
}


@dataclass(frozen=True, slots=True)
class IndividualPlan:
    id: str
    school_id: str
    class_id: str
    student_id: str
    subjects: tuple[str, ...]  # the subjects assessed against the plan; the others as for every student
    reason: str  # the principal's decision as stated (its number, the plan's reference)
    decided_by: str
    decided_at: datetime


class PlanRefused(GradebookError):
    http_status = 422
    slug = "individual-plan-refused"
    title = "Individual education plan refused"


class PlanExists(GradebookError):
    http_status = 409
    slug = "individual-plan-exists"
    title = "Individual education plan already decided"


def plan_subjects(plans: Iterable[IndividualPlan]) -> dict[str, frozenset[str]]:
    """student → the subjects assessed against the plan (the rules' ``SubjectYear.individual_plan``)."""
    out: dict[str, frozenset[str]] = {}
    for p in plans:
        out[p.student_id] = out.get(p.student_id, frozenset()) | frozenset(p.subjects)
    return out


def check_new(new: IndividualPlan, existing: Iterable[IndividualPlan], studied: Mapping[str, str]) -> None:
    """``studied``: the class's subject codes → names. A plan names at least one of them, each once; a student has
    one plan a year: the principal withdraws it before deciding another."""
    if not new.subjects:
        raise PlanRefused("Kế hoạch giáo dục cá nhân phải nêu ít nhất một môn học đánh giá theo kế hoạch.")
    if len(set(new.subjects)) != len(new.subjects):
        raise PlanRefused("Mỗi môn chỉ được nêu một lần trong kế hoạch giáo dục cá nhân.")
    unknown = [c for c in new.subjects if c not in studied]
    if unknown:
        raise PlanRefused(f"Lớp không học môn: {', '.join(unknown)}.")
    for old in existing:
        if old.student_id == new.student_id:
            raise PlanExists(
                "Học sinh đã có kế hoạch giáo dục cá nhân trong năm học này. "
                "Hãy hủy quyết định đó trước khi ghi quyết định mới.",
                log=f"individual plan {old.id} exists",
            )


def check_entry(entry: Mapping[str, Any], *, subject_name: str) -> str | None:
    """A plan subject's term entry: once complete (its end-of-term assessment, or a primary level) it carries the
    teacher's comment on the student's progress against the plan. The Vietnamese refusal, or None."""
    complete = entry.get("final") is not None or entry.get("level") is not None
    if complete and not (entry.get("comment") or "").strip():
        return (
            f"Môn {subject_name}: học sinh học theo kế hoạch giáo dục cá nhân, kết quả được đánh giá theo yêu cầu "
            "của kế hoạch; hãy ghi nhận xét về mức độ học sinh đạt yêu cầu của kế hoạch."
        )
    return None


def plan_note(names: Sequence[str], circular: str) -> str:
    """The explanation's words naming the plan and its subjects."""
    return (
        f"học sinh học theo kế hoạch giáo dục cá nhân: {', '.join(names)} đánh giá theo yêu cầu của kế hoạch "
        f"({BASIS[circular]}), các môn khác như mọi học sinh"
    )


def subject_note(circular: str) -> str:
    return f"đánh giá theo yêu cầu của kế hoạch giáo dục cá nhân ({BASIS[circular]})"


def plan_gaps(
    students: Iterable[tuple[str, str, Iterable[tuple[str, str, str, Mapping[str, Any]]]]],
) -> list[MissingResult]:
    """The year's lock: each plan subject's complete term without the teacher's comment against the plan.
    ``students``: (id, name, [(subject code, subject name, term, entry)] of the plan's subjects)."""
    return [
        MissingResult(
            student_id, name, f"nhận xét môn {subject_name} {TERM_LABEL[term]} theo kế hoạch giáo dục cá nhân"
        )
        for student_id, name, terms in students
        for _, subject_name, term, entry in terms
        if check_entry(entry, subject_name=subject_name) is not None
    ]
