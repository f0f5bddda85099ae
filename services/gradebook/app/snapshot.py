"""The class snapshot: everything on the class sheet, as the lock freezes it and the transcript prints it."""

from __future__ import annotations

import base64
from collections import defaultdict
from typing import Any

from contracts.gradebook import (
    ClassSnapshot,
    StudentAward,
    StudentRecord,
    StudentTermRecord,
    SubjectResult,
    SubjectTeacher,
    TermLockedV1,
    TermMarks,
)
from services.gradebook.app.unit_of_work import GradebookUnitOfWork
from services.gradebook.domain.carried import CarriedTerm
from services.gradebook.domain.curriculum import circular_of_grade, subject
from services.gradebook.domain.exemption import exempt_terms
from services.gradebook.domain.individual_plan import plan_subjects
from services.gradebook.domain.model import Assignment, ClassInfo, Document
from services.gradebook.domain.results import StudentResults, compute_results
from services.gradebook.domain.summer import SUMMER
from services.gradebook.domain.term_lock import TermLock, content_hash
from services.gradebook.domain.year import EXEMPT

# student → subject → term → entry
ClassMarks = defaultdict[str, defaultdict[str, dict[str, Document]]]
# student → term → homeroom record
ClassHomeroom = defaultdict[str, dict[str, Document]]
# student → subject → the terms the principal exempted
ClassExemptions = dict[str, dict[str, frozenset[str]]]
# student → term → the term studied at the previous school (a student who joined during the year)
ClassCarried = defaultdict[str, dict[str, CarriedTerm]]
# student → the subjects assessed against the student's individual education plan
ClassPlans = dict[str, frozenset[str]]


def _class_inputs(
    uow: GradebookUnitOfWork, info: ClassInfo
) -> tuple[list[Assignment], ClassMarks, ClassHomeroom, ClassExemptions, ClassCarried, ClassPlans]:
    """Assignments, marks (student → subject → term → entry), homeroom records (student → term → record),
    exemptions (student → subject → terms), carried terms (student → term → the previous school's) and individual
    education plans (student → subjects)."""
    marks: ClassMarks = defaultdict(lambda: defaultdict(dict))
    for mark in uow.sheet.class_marks(info.id):
        marks[mark.student_id][mark.subject_code][mark.term] = mark.entry
    terms: ClassHomeroom = defaultdict(dict)
    for record in uow.sheet.class_homeroom(info.id):
        terms[record.student_id][record.term] = record.record
    exempt = exempt_terms(uow.exemptions.of_class(info.id))
    carried: ClassCarried = defaultdict(dict)
    if circular_of_grade(info.grade) == "tt22":
        # What the sending school's gradebook handed over, matched by MOET code; what the school recorded wins.
        roster = {s.moet_code: s.id for s in uow.classes.roster(info.id) if s.moet_code}
        for h in uow.handed_over.for_students(info.school_id, info.school_year, list(roster)):
            student_id = roster[h.moet_code or ""]
            carried[student_id][h.term] = h.in_class(info.id, student_id)
    for c in uow.carried.of_class(info.school_id, info.id):
        carried[c.student_id][c.term] = c
    plans = plan_subjects(uow.plans.of_class(info.id))
    return uow.classes.assignments(info.id), marks, terms, exempt, carried, plans


def class_computation(uow: GradebookUnitOfWork, info: ClassInfo) -> dict[str, StudentResults]:
    """Every enrolled student's computed results, by student id."""
    assignments, marks, terms, exempt, carried, plans = _class_inputs(uow, info)
    periods = {a.subject_code: a.periods_per_year for a in assignments}
    return {
        s.id: compute_results(
            info.grade,
            periods,
            marks[s.id],
            terms[s.id],
            exempt.get(s.id),
            carried[s.id],
            plans.get(s.id, frozenset()),
        )
        for s in uow.classes.roster(info.id)
    }


def student_computation(uow: GradebookUnitOfWork, info: ClassInfo, student_id: str) -> StudentResults:
    assignments, marks, terms, exempt, carried, plans = _class_inputs(uow, info)
    periods = {a.subject_code: a.periods_per_year for a in assignments}
    return compute_results(
        info.grade,
        periods,
        marks[student_id],
        terms[student_id],
        exempt.get(student_id),
        carried[student_id],
        plans.get(student_id, frozenset()),
    )


def _b64(sealed: bytes | None) -> str | None:
    return base64.b64encode(sealed).decode() if sealed else None


def build_snapshot(uow: GradebookUnitOfWork, info: ClassInfo) -> ClassSnapshot:
    assignments, marks, terms, exempt, carried, plans = _class_inputs(uow, info)
    subjects = [
        SubjectTeacher(
            subject_code=a.subject_code,
            subject_name=subject(a.subject_code, info.grade).name,
            teacher_id=a.teacher_id,
            teacher_name=a.teacher_name,
        )
        for a in assignments
    ]
    periods = {a.subject_code: a.periods_per_year for a in assignments}
    awards: dict[str, list[StudentAward]] = defaultdict(list)
    for a in uow.awards.of_class(info.id):
        awards[a.student_id].append(
            StudentAward(kind=a.kind, title=a.title, decided_by=a.decided_by, decided_at=a.decided_at)
        )
    students = []
    for s in uow.classes.roster(info.id):
        brought, planned = carried[s.id], plans.get(s.id, frozenset())
        results = compute_results(
            info.grade, periods, marks[s.id], terms[s.id], exempt.get(s.id), brought, planned
        )
        students.append(
            StudentRecord(
                student_id=s.id,
                moet_code=s.moet_code,
                personal_id_enc=_b64(s.personal_id_enc),
                full_name=s.full_name,
                roll_number=s.roll_number,
                gender=s.gender,
                personal_details_enc=_b64(s.personal_details_enc),
                register_number=s.register_number,
                subjects=[
                    SubjectResult(
                        subject_code=code,
                        hk1=_term_marks(marks[s.id][code].get("hk1"), results, code, "hk1", brought),
                        hk2=_term_marks(marks[s.id][code].get("hk2"), results, code, "hk2", brought),
                        year=results.average(code, "year"),
                        year_after_retest=results.average(code, "year_after_retest"),
                        summer=_reassessed(marks[s.id][code].get(SUMMER)),
                        # None, not False, for every other subject: as a snapshot from before plans says.
                        individual_plan=True if code in planned else None,
                    )
                    for code in periods
                ],
                hk1=_term_record(terms[s.id].get("hk1"), results.learning_result("hk1"), brought.get("hk1")),
                hk2=_term_record(terms[s.id].get("hk2"), results.learning_result("hk2"), brought.get("hk2")),
                summer=_after_summer(terms[s.id].get(SUMMER)),
                year=results.year,
                awards=awards[s.id],
            )
        )
    body = [[s.model_dump(mode="json") for s in students], [t.model_dump(mode="json") for t in subjects]]
    return ClassSnapshot(
        students=students,
        subjects=subjects,
        homeroom_teacher_id=info.homeroom_teacher_id,
        homeroom_teacher_name=info.homeroom_teacher_name,
        content_hash=content_hash(body),
    )


def _term_marks(
    entry: dict[str, Any] | None,
    results: StudentResults,
    code: str,
    term: str,
    carried: dict[str, CarriedTerm],
) -> TermMarks | None:
    """What was entered, with what follows from it: the term average, and a comment subject's computed Đ/CĐ; an
    exempt term is "Miễn" alone (rules.md: recorded as "Miễn" for that period), whatever was entered before. A term
    carried from the previous school is its result alone, marked as that school's (no assessments of this one)."""
    if results.average(code, term) == EXEMPT:
        return TermMarks(average=EXEMPT, result=EXEMPT)
    if term in carried:
        if code not in carried[term].subjects:
            return None
        return TermMarks(
            average=results.average(code, term),
            result=results.term_result(code, term),
            assessed_by=carried[term].from_school_id,
            assessed_by_name=carried[term].from_school_name,
        )
    if entry is None:
        return None
    return TermMarks(**entry, average=results.average(code, term), result=results.term_result(code, term))


def _reassessed(entry: dict[str, Any] | None) -> TermMarks | None:
    """A primary subject's supplementary assessment (TT27 art. 11); a TT22 re-test is the year_after_retest."""
    if not entry or "level" not in entry:
        return None
    return TermMarks(level=entry["level"], test=entry.get("test"))


def _after_summer(record: dict[str, Any] | None) -> StudentTermRecord | None:
    """The summer's homeroom record as the contract carries it: the conduct after summer training (TT22) or the
    qualities and competencies re-assessed (TT27); the principal's decision is in ``year``."""
    kept = {k: v for k, v in (record or {}).items() if k in ("conduct", "qualities", "competencies")}
    return StudentTermRecord(**kept) if kept else None


def _term_record(
    record: dict[str, Any] | None, learning_result: str | None, carried: CarriedTerm | None = None
) -> StudentTermRecord | None:
    """The homeroom record of the term; for a term studied at the previous school, that school's conduct and
    absences, and where it was studied."""
    if carried is not None:
        return StudentTermRecord(
            conduct=carried.conduct,
            absences=carried.absences,
            learning_result=learning_result,
            school_id=carried.from_school_id,
            school_name=carried.from_school_name,
        )
    if record is None and learning_result is None:
        return None
    return StudentTermRecord(**(record or {}), learning_result=learning_result)


def term_locked_event(
    info: ClassInfo,
    term: str,
    lock: TermLock,
    snapshot: ClassSnapshot,
    locked_by_name: str | None,
    *,
    summer: bool = False,
) -> TermLockedV1:
    return TermLockedV1(
        school_id=info.school_id,
        school_name=info.school_name,
        school_province=info.school_province,
        class_id=info.id,
        class_name=info.name,
        grade=info.grade,
        school_year=info.school_year,
        term=term,  # type: ignore[arg-type]
        circular=circular_of_grade(info.grade),
        locked_by=lock.locked_by,
        locked_by_name=locked_by_name,
        locked_at=lock.locked_at,
        snapshot=snapshot,
        summer=summer,
    )
