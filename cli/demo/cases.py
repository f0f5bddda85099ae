"""Issue 17's cases in the demo: one student each, whose path to the province is shown; five in Trường THCS Nguyễn Du's
8A1 and one in Trường Tiểu học Kim Đồng's 4A1.

- a re-test (kiểm tra lại): Toán 3.0 at year end; the re-test passes in the summer, the principal locks the summer,
  and the record decided again reaches the province on the supplementary path (15 August), replacing the year-end
  version that went there, on the same path, with the regular records;
- summer conduct training (rèn luyện trong hè): conduct Chưa đạt at year end, Đạt after the summer; the same path;
- an exemption (miễn học): the principal exempts the student from Giáo dục thể chất for the year; the year's
  learning result leaves it out ("Miễn"); the regular path (30 June);
- a year-end transfer (chuyển trường): a third, small school, Trường THCS Lê Lợi, reports its 2024-2025 grade 7 year
  a year earlier (the stack runs at 20 June 2025 for it); Nguyễn Du's clerk asks for the học bạ by the code printed
  on it, Lê Lợi's principal approves, and Nguyễn Du records the student's grade 8 year: one lookup code opens both
  schools' years on the portal;
- a mid-year transfer (chuyển trường giữa năm học): another Lê Lợi student moves up with Lê Lợi into 2025-2026 (grade
  8), studies term I there, and Lê Lợi's principal locks it; then Nguyễn Du's clerk asks for the học bạ (its
  2024-2025 record is at the province: sync hands over only a học bạ the province holds), Lê Lợi's principal
  approves, and the approval's event makes Lê Lợi's gradebook hand the locked term I over to Nguyễn Du's (nobody
  types it); Nguyễn Du's teachers enter term II only, the year is computed from both schools' terms, and the record
  names the school of each term; one lookup code opens both schools' years;
- a supplementary assessment (đánh giá bổ sung, TT27 art. 11): a grade-4 pupil at Kim Đồng with Toán at Chưa hoàn
  thành (test 4) and chăm chỉ at Cần cố gắng is not complete at year end (the supplementary path, 15 August, for
  grades 1–4); in the summer the homeroom teacher re-assesses Toán (Hoàn thành, test 6) and chăm chỉ (Đạt), the
  principal locks the summer, and the record decided again (version 2) replaces version 1 on the same path.

Each step is a user's request over the services' HTTP APIs (cli/demo/pipeline.py); each is skipped when an
earlier run took it, so a second run reports the same cases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from cli.demo.pipeline import DemoSchool, Pipeline
from cli.registry import gateway_url
from sandbox.sample_school import (
    CASES,
    EXEMPT,
    EXEMPT_SUBJECT,
    MIDYEAR,
    RETEST,
    RETEST_SUBJECT,
    SUMMER_CONDUCT,
    SUPPLEMENTARY,
    SUPPLEMENTARY_QUALITY,
    SUPPLEMENTARY_SUBJECT,
    TRANSFERRED,
    add_class,
    add_student,
    build,
    next_year,
)
from services.runtime import http_client
from services.transcript.documents import xml_package

# The sending school: (school id, name, grade, classes, students per class, school year), a year before the others.
SENDER = ("demo-thcs-leloi", "Trường THCS Lê Lợi", 7, 1, 3, "2024-2025")
# The day the stack runs for the sending school's year: before ITS cutoff (30 June 2025); sync refuses to report a
# year whose cutoff has passed, so the 2024-2025 year could not reach the province at the 2026 rehearsal day.
PREVIOUS_DAY = "2025-06-20"
# The province's day when the summer's records arrive: after the re-tests (July), before the 15 August cutoff.
SUMMER_DAY = "2026-08-10"
RETEST_RESULT = "6.5"
EXEMPTION_REASON = "Quyết định số 15/QĐ-THCS: miễn học Giáo dục thể chất cả năm học vì lý do sức khỏe"
# The receiving school's cases, in its 8A1: the year-end ones, then the student who joins after term I.
RECEIVING_CASES = (*CASES, MIDYEAR)
# The primary school's grade-4 class: a few drawn pupils, then the one not complete at year end.
PRIMARY_GRADE, PRIMARY_CLASS_SIZE = 4, 4
# The summer's re-assessment of the primary pupil: Toán's new level and test, chăm chỉ's new level.
SUPPLEMENTARY_RESULT = {"result": "H", "test": 6}
SUPPLEMENTARY_TRAIT = "Đ"
LABELS = {
    RETEST: "re-test (kiểm tra lại)",
    SUMMER_CONDUCT: "summer conduct training (rèn luyện trong hè)",
    EXEMPT: "exempt (miễn học)",
    TRANSFERRED: "transferred at year end (chuyển trường)",
    MIDYEAR: "transferred after term I (chuyển trường giữa năm học)",
    SUPPLEMENTARY: "supplementary assessment, grade 4 (đánh giá bổ sung, TT27)",
}
# The summer's cases: their latest record is the one decided again (version 2).
SUMMER_CASES = (RETEST, SUMMER_CONDUCT, SUPPLEMENTARY)


@dataclass(frozen=True)
class Cases:
    sender: DemoSchool  # the sending school's 2024-2025 year (grade 7)
    sender_now: DemoSchool  # the same school in 2025-2026 (grade 8): the mid-year student's term I
    receiving: DemoSchool
    class_id: str
    students: dict[str, dict[str, Any]]  # case → the student at the receiving school
    moved: dict[str, Any]  # the year-end transferred student as the sending school knows them
    leaving: dict[str, Any]  # the mid-year transferred student as the sending school knows them
    primary: DemoSchool
    primary_class: str
    pupil: dict[str, Any]  # the grade-4 pupil re-assessed in the summer

    def student(self, case: str) -> dict[str, Any]:
        return self.pupil if case == SUPPLEMENTARY else self.students[case]

    def school_of(self, case: str) -> tuple[DemoSchool, str]:
        """The school and class the case's student is in."""
        return (
            (self.primary, self.primary_class) if case == SUPPLEMENTARY else (self.receiving, self.class_id)
        )

    def from_sender(self, case: str) -> dict[str, Any]:
        """A transferred student as the sending school knows them."""
        return self.moved if case == TRANSFERRED else self.leaving


def sender_school() -> DemoSchool:
    school_id, name, grade, classes, size, year = SENDER
    return DemoSchool(
        build(school_id, classes=classes, students_per_class=size, grade=grade, year=year), name
    )


def add_cases(receiving: DemoSchool, sender: DemoSchool, primary: DemoSchool) -> Cases:
    """One student per case at the end of the receiving school's first class, and the primary school's grade-4 class
    with its pupil; the students the schools were built with stay as built."""
    class_id = receiving.school.classes[0]["class_id"]
    moved, leaving = sender.school.students[:2]
    like = {TRANSFERRED: moved, MIDYEAR: leaving}
    students = {
        case: add_student(receiving.school, class_id, case, like=like.get(case)) for case in RECEIVING_CASES
    }
    # The sending school a year on: the student who left at year end is no longer there.
    sender_now = DemoSchool(
        next_year(sender.school, receiving.school.year, {moved["student_id"]}), sender.name
    )
    primary_class = add_class(primary.school, PRIMARY_GRADE, PRIMARY_CLASS_SIZE)
    pupil = add_student(primary.school, primary_class, SUPPLEMENTARY)
    return Cases(
        sender, sender_now, receiving, class_id, students, moved, leaving, primary, primary_class, pupil
    )


def sender_reported(pipeline: Pipeline, sender: DemoSchool) -> bool:
    """Whether an earlier run already took the sending school's year to the province."""
    try:
        return int(pipeline.sync_status(sender)["accepted"]) >= len(sender.school.students)
    except Exception:  # noqa: BLE001 - a school sync has never heard of: not reported
        return False


def decide_exemption(pipeline: Pipeline, cases: Cases) -> str:
    student = cases.student(EXEMPT)
    decided = pipeline.exempt(
        cases.receiving, cases.class_id, student["student_id"], EXEMPT_SUBJECT, EXEMPTION_REASON
    )
    return (
        f"the principal exempts {student['full_name']} from Giáo dục thể chất for the year ({EXEMPTION_REASON})"
        if decided
        else f"{student['full_name']}'s exemption was decided by an earlier run"
    )


def sender_term_one(pipeline: Pipeline, cases: Cases) -> str:
    """The sending school's next year, 2025-2026: its clerk opens it (the classes one grade up, the student who left
    at year end no longer there), the teachers enter term I, the principal locks it. Before the mid-year transfer;
    skipped once an earlier run locked it."""
    demo = cases.sender_now
    class_id = demo.school.classes[0]["class_id"]
    if pipeline.term_locked(demo, class_id, "hk1"):
        return f"0b. {demo.name}'s 2025-2026 term I was locked by an earlier run"
    pipeline.load(demo)
    for code in [s for s, _ in demo.school.subjects] + ["homeroom"]:
        pipeline.enter(demo, class_id, "hk1", code)
    pipeline.lock_term(demo, class_id, "hk1")
    return (
        f"0b. {demo.name} opens 2025-2026 ({demo.school.classes[0]['name']}, {len(demo.school.students)} students: "
        f"{cases.moved['full_name']} left at year end); its teachers enter term I and its principal locks it"
    )


def _sent(pipeline: Pipeline, cases: Cases, case: str) -> dict[str, Any]:
    """The sending school's year record of a transferred student (its 2024-2025 year)."""
    student_id = cases.from_sender(case)["student_id"]
    return next(
        r
        for r in pipeline.year_records(cases.sender)
        if r["student_id"] == student_id and r["status"] != "replaced"
    )


def hand_over(pipeline: Pipeline, cases: Cases, case: str) -> str:
    """Before the receiving school's year is locked: its clerk asks, the sending principal approves (the học bạ is
    handed over at the province and to the receiving school's transcript service, which continues its code; for the
    mid-year student, the sending school's gradebook hands over the locked term I too)."""
    sent = _sent(pipeline, cases, case)
    code, student = sent["lookup_code"], cases.from_sender(case)
    done = [
        r
        for r in pipeline.transfer_requests(cases.receiving)["sent"]
        if r["from_school"] == cases.sender.school_id
        and r["status"] == "approved"
        and r.get("transcript_id") == sent["transcript_id"]
    ]
    if done:
        return f"the transfer of {student['full_name']} was approved by an earlier run"
    asked = pipeline.request_transfer(cases.receiving, cases.sender.school_id, code)
    approved = pipeline.approve_transfer(cases.sender, asked["id"])
    said = (
        f"{cases.receiving.name}'s clerk asks {cases.sender.name} for {student['full_name']}'s học bạ (code "
        f"{code}); its principal approves ({approved['status']}): handed over at the province"
    )
    if case != MIDYEAR:
        return said
    averages = handed_over_term(pipeline, cases)
    return (
        f"{said}; the approval's event makes {cases.sender.name}'s gradebook hand over the student's locked term I "
        f"(Toán {averages['toan.hk1']}, Ngữ văn {averages.get('ngu_van.hk1')}, …): nobody types it"
    )


def handed_over_term(pipeline: Pipeline, cases: Cases, timeout: float = 120) -> dict[str, str]:
    """The mid-year student's averages once the receiving school's gradebook holds the handed-over term I (the
    year's lock would refuse the student without it)."""
    sid, deadline = cases.student(MIDYEAR)["student_id"], time.monotonic() + timeout
    while True:
        averages = dict(pipeline.results(cases.receiving, cases.class_id, sid)["averages"])
        if averages.get("toan.hk1"):
            return averages
        if time.monotonic() > deadline:
            raise TimeoutError(
                "the mid-year student's term I was not handed over in time; see var/demo-logs/"
            )
        time.sleep(1)


def summer(pipeline: Pipeline, cases: Cases) -> list[str]:
    """The summer at each school: Nguyễn Du's re-test and conduct training, Kim Đồng's supplementary assessment, each
    class's summer locked by its principal; each skipped once an earlier run locked it."""
    return [_secondary_summer(pipeline, cases), _primary_summer(pipeline, cases)]


def _secondary_summer(pipeline: Pipeline, cases: Cases) -> str:
    retest, training = cases.student(RETEST)["student_id"], cases.student(SUMMER_CONDUCT)["student_id"]
    year = pipeline.results(cases.receiving, cases.class_id, retest)["year"]
    if year.get("promotion_after_retest"):
        return f"{cases.receiving.name}: the summer was locked by an earlier run"
    locked = pipeline.summer(
        cases.receiving,
        cases.class_id,
        {RETEST_SUBJECT: {retest: {"result": RETEST_RESULT}}},
        {training: {"conduct": "Đạt"}},
    )
    decided = ", ".join(f"{s['student_id']} → {s['promotion_after_retest']}" for s in locked["students"])
    return (
        f"{cases.receiving.name}: the Toán teacher enters the re-test ({RETEST_RESULT}), the homeroom teacher the "
        f"conduct after the summer (Đạt), the principal locks the summer: {decided}"
    )


def _primary_summer(pipeline: Pipeline, cases: Cases) -> str:
    """TT27 art. 11: the pupil not complete is re-assessed on what kept them below Hoàn thành (Toán by its teacher,
    here the homeroom teacher; chăm chỉ by the homeroom teacher); the principal's summer lock decides again."""
    pupil = cases.pupil["student_id"]
    latest = _latest(pipeline, cases.primary, pupil)
    if latest is not None and latest["version"] >= 2:
        return f"{cases.primary.name}: the supplementary assessment was locked by an earlier run"
    locked = pipeline.summer(
        cases.primary,
        cases.primary_class,
        {SUPPLEMENTARY_SUBJECT: {pupil: SUPPLEMENTARY_RESULT}},
        {pupil: {"qualities": {SUPPLEMENTARY_QUALITY: SUPPLEMENTARY_TRAIT}}},
    )
    decided = ", ".join(
        f"{s['student_id']} → {s['completion_after_supplementary']}, {s['promotion_after_supplementary']}"
        for s in locked["students"]
    )
    return (
        f"{cases.primary.name}: the homeroom teacher re-assesses Toán (level {SUPPLEMENTARY_RESULT['result']}, test "
        f"{SUPPLEMENTARY_RESULT['test']}) and chăm chỉ ({SUPPLEMENTARY_TRAIT}), the principal locks the summer: "
        f"{decided}"
    )


def _latest(pipeline: Pipeline, demo: DemoSchool, student_id: str) -> dict[str, Any] | None:
    mine = [r for r in pipeline.year_records(demo) if r["student_id"] == student_id]
    return max(mine, key=lambda r: r["version"]) if mine else None


def summer_reported(pipeline: Pipeline, cases: Cases) -> bool:
    """Every summer case's record decided again (version 2) is accepted by the province."""
    for case in SUMMER_CASES:
        demo, _ = cases.school_of(case)
        latest = _latest(pipeline, demo, cases.student(case)["student_id"])
        if latest is None or latest["version"] < 2:
            return False
        held = pipeline.at_province(demo, year_record_id=latest["id"])
        if not any(
            r["version"] == latest["version"] and r["status"] in ("current", "effective") for r in held
        ):
            return False
    return True


def follow_summer(pipeline: Pipeline, cases: Cases, timeout: float = 900) -> int:
    """The signers sign the records decided again until the province holds them; returns signatures."""
    signatures, deadline = 0, time.monotonic() + timeout
    while not summer_reported(pipeline, cases):
        if time.monotonic() > deadline:
            raise TimeoutError("the summer's records were not reported in time; see var/demo-logs/")
        for demo in (cases.receiving, cases.primary):
            signatures += pipeline.sign_waiting(demo)
        time.sleep(1)
    return signatures


def _vn(day: str) -> str:
    return date.fromisoformat(day[:10]).strftime("%d/%m/%Y")


def _path(pipeline: Pipeline, demo: DemoSchool, transcript_id: str, school_year: str) -> str:
    """The record's way to the province: each version, its path, the day it arrived, what it is now."""
    versions = sorted(
        (
            r
            for r in pipeline.at_province(demo, transcript_id=transcript_id)
            if r["school_year"] == school_year
        ),
        key=lambda r: r["version"],
    )
    if not versions:
        return "NOT at the province"
    parts = []
    for r in versions:
        path = "supplementary, 15/8" if r["assessment"] == "supplementary" else "regular, 30/6"
        parts.append(f"v{r['version']} {path}: accepted {_vn(r['accepted_at'])}, now {r['status']}")
    return "; ".join(parts)


def report(pipeline: Pipeline, cases: Cases, verdicts: dict[str, dict[str, Any]]) -> tuple[list[str], int]:
    """A few lines per case: the student, what the year decided, the path to the province, `hocba verify`."""
    lines, failed = [], 0
    for case in (*RECEIVING_CASES, SUPPLEMENTARY):
        demo, class_id = cases.school_of(case)
        student = cases.student(case)
        sid = student["student_id"]
        got = pipeline.results(demo, class_id, sid)
        latest = _latest(pipeline, demo, sid)
        if latest is None:
            lines.append(f"{LABELS[case]}: {student['full_name']} ({sid}) has no record")
            failed += 1
            continue
        verdict = verdicts.get(f"{sid}-{latest['school_year']}.pdf")
        passed = bool(verdict and verdict["passed"])
        failed += not passed
        # The summer's students end with the record decided again (version 2); the others with their year-end one.
        failed += (latest["version"] >= 2) != (case in SUMMER_CASES)
        lines.append(f"{LABELS[case]}: {student['full_name']} ({sid}, {demo.name}): {_decided(case, got)}")
        if case == MIDYEAR:
            line, bad = _terms(pipeline, cases, latest)
            lines.append(line)
            failed += bad
        lines.append(
            f"   to the province: {_path(pipeline, demo, latest['transcript_id'], latest['school_year'])}; "
            f"hocba verify {sid}-{latest['school_year']}.pdf: "
            f"{verdict['indication'] if verdict else 'NOT COLLECTED'}"
        )
        if case in (TRANSFERRED, MIDYEAR):
            more, bad = _transfer(pipeline, cases, case, latest, verdicts)
            lines.extend(more)
            failed += bad
    return lines, failed


def _decided(case: str, got: dict[str, Any]) -> str:
    """What the year (and the summer) decided for the case's student, as the gradebook computes it."""
    year, averages = got["year"], got["averages"]
    if case == RETEST:
        return (
            f"Toán {averages.get('toan.year')} → học tập {year.get('learning_result')}, "
            f"{year.get('promotion')}; re-test {averages.get('toan.year_after_retest')} → học tập "
            f"{year.get('learning_result_after_retest')}, {year.get('promotion_after_retest')}"
        )
    if case == SUMMER_CONDUCT:
        return (
            f"rèn luyện {year.get('conduct')} → {year.get('promotion')}; after the summer "
            f"{year.get('conduct_after_summer')} → {year.get('promotion_after_retest')}"
        )
    if case == EXEMPT:
        return (
            f"Giáo dục thể chất {averages.get('gdtc.year')}; học tập {year.get('learning_result')} "
            f"({got['explanations'].get('learning_result.year')})"
        )
    if case == MIDYEAR:
        return (
            f"Toán term I {averages.get('toan.hk1')} (handed over), term II {averages.get('toan.hk2')} → year "
            f"{averages.get('toan.year')} ({got['explanations'].get('toan.year')}); học tập "
            f"{year.get('learning_result')}, rèn luyện {year.get('conduct')} → {year.get('promotion')}"
        )
    if case == SUPPLEMENTARY:
        return (
            f"Toán {averages.get('toan.year')}, chăm chỉ Cần cố gắng → "
            f"{year.get('year_result')}, {year.get('completion')} (the {year.get('reporting_path')} path); after "
            f"the supplementary assessment Toán {averages.get('toan.year_after_retest')} → "
            f"{year.get('year_result_after_supplementary')}, {year.get('completion_after_supplementary')}, "
            f"{year.get('promotion_after_supplementary')}"
        )
    return f"học tập {year.get('learning_result')}, rèn luyện {year.get('conduct')} → {year.get('promotion')}"


def _terms(pipeline: Pipeline, cases: Cases, latest: dict[str, Any]) -> tuple[str, int]:
    """Where the record (its signed XML package) says each term was studied."""
    xml = http_client.get(
        f"{pipeline.url['transcript']}/records/{latest['id']}/xml",
        headers=pipeline.auth(cases.receiving.school_id, "van-thu", "staff"),
        timeout=30,
    )
    xml.raise_for_status()
    root = xml_package.validate(xml.content)
    ns = {"h": xml_package.NS}
    where = {
        p.get("period"): p.get("schoolName") or p.get("schoolId") or cases.receiving.name
        for p in root.iterfind("h:Results/h:Period", ns)
    }
    toan = root.find("h:Subjects/h:Subject[@code='toan']/h:Term[@term='hk1']", ns)
    by = toan.get("assessedByName") if toan is not None else None
    # Each school signs only what it assessed: this school's subject teachers cover term II and the year.
    covers = [
        c.text or ""
        for step in root.iterfind("h:SignaturePlan/h:Step", ns)
        if step.get("role") == "subject_teacher"
        for c in step.iterfind("h:Covers", ns)
    ]
    signed_here = bool(covers) and all(c.endswith((":hk2", ":year")) for c in covers)
    ok = (
        where.get("hk1") == cases.sender.name
        and where.get("hk2") != cases.sender.name
        and by == cases.sender.name
        and signed_here
    )
    return (
        f"   the record says: học kỳ I at {where.get('hk1')}, học kỳ II at {where.get('hk2')} (Toán term I assessed "
        f"by {by}); {cases.receiving.name}'s subject teachers sign "
        f"{'term II and the year only' if signed_here else 'TERM I TOO'} ({len(covers)} rows); term I came "
        "through the handover event, not typed by the office",
        0 if ok else 1,
    )


def _transfer(
    pipeline: Pipeline, cases: Cases, case: str, latest: dict[str, Any], verdicts: dict[str, dict[str, Any]]
) -> tuple[list[str], int]:
    sent = _sent(pipeline, cases, case)
    code = sent["lookup_code"]
    student_id = cases.from_sender(case)["student_id"]
    verdict = verdicts.get(f"{student_id}-{sent['school_year']}.pdf")
    page = http_client.get(f"{gateway_url()}/hocba/{code}", timeout=30)
    years = [y for y in (sent["school_year"], latest["school_year"]) if f"Năm học {y}" in page.text]
    same = latest["lookup_code"] == code
    ok = same and len(years) == 2 and page.status_code == 200 and bool(verdict and verdict["passed"])
    return [
        f"   at {cases.sender.name} ({student_id}, {sent['school_year']}): "
        f"{_path(pipeline, cases.sender, sent['transcript_id'], sent['school_year'])}; hocba verify: "
        f"{verdict['indication'] if verdict else 'NOT COLLECTED'}",
        f"   one lookup code {'(the same at both schools)' if same else 'DIFFERS between the schools'}: "
        f"{gateway_url()}/hocba/{code} opens {' and '.join(years) or 'no year'} (HTTP {page.status_code})",
    ], 0 if ok else 1
