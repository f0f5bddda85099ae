"""Issue 17's cases in the demo: one student each, added to Trường THCS Nguyễn Du, whose path to the province is shown.

- a re-test (kiểm tra lại): Toán 3.0 at year end; the re-test passes in the summer, the principal locks the summer,
  and the record decided again reaches the province on the supplementary path (15 August), replacing the year-end
  version that went there, on the same path, with the regular records;
- summer conduct training (rèn luyện trong hè): conduct Chưa đạt at year end, Đạt after the summer; the same path;
- an exemption (miễn học): the principal exempts the student from Giáo dục thể chất for the year; the year's
  learning result leaves it out ("Miễn"); the regular path (30 June);
- a year-end transfer (chuyển trường): a third, small school, Trường THCS Lê Lợi, reports its 2024-2025 grade 7 year
  a year earlier (the stack runs at 20 June 2025 for it); Nguyễn Du's clerk asks for the học bạ by the code printed
  on it, Lê Lợi's principal approves, and Nguyễn Du records the student's grade 8 year: one lookup code opens both
  schools' years on the portal. A transfer after term I (mid-year) is the platform's too (the sending school's
  locked term I comes with the handover, or the receiving school's office enters it; the year is computed from
  both: tests/integration/transcript/test_midyear_transfer.py), but this demo case is still the year-end one.

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
    RETEST,
    RETEST_SUBJECT,
    SUMMER_CONDUCT,
    TRANSFERRED,
    add_student,
    build,
)
from services.runtime import http_client

# The sending school: (school id, name, grade, classes, students per class, school year), a year before the others.
SENDER = ("demo-thcs-leloi", "Trường THCS Lê Lợi", 7, 1, 3, "2024-2025")
# The day the stack runs for the sending school's year: before ITS cutoff (30 June 2025); sync refuses to report a
# year whose cutoff has passed, so the 2024-2025 year could not reach the province at the 2026 rehearsal day.
PREVIOUS_DAY = "2025-06-20"
# The province's day when the summer's records arrive: after the re-tests (July), before the 15 August cutoff.
SUMMER_DAY = "2026-08-10"
RETEST_RESULT = "6.5"
EXEMPTION_REASON = "Quyết định số 15/QĐ-THCS: miễn học Giáo dục thể chất cả năm học vì lý do sức khỏe"
LABELS = {
    RETEST: "re-test (kiểm tra lại)",
    SUMMER_CONDUCT: "summer conduct training (rèn luyện trong hè)",
    EXEMPT: "exempt (miễn học)",
    TRANSFERRED: "transferred (chuyển trường)",
}


@dataclass(frozen=True)
class Cases:
    sender: DemoSchool
    receiving: DemoSchool
    class_id: str
    students: dict[str, dict[str, Any]]  # case → the student at the receiving school
    moved: dict[str, Any]  # the transferred student as the sending school knows them

    def student(self, case: str) -> dict[str, Any]:
        return self.students[case]


def sender_school() -> DemoSchool:
    school_id, name, grade, classes, size, year = SENDER
    return DemoSchool(
        build(school_id, classes=classes, students_per_class=size, grade=grade, year=year), name
    )


def add_cases(receiving: DemoSchool, sender: DemoSchool) -> Cases:
    """One student per case at the end of the receiving school's first class; its other students stay as built."""
    class_id = receiving.school.classes[0]["class_id"]
    moved = sender.school.students[0]
    students = {
        case: add_student(receiving.school, class_id, case, like=moved if case == TRANSFERRED else None)
        for case in CASES
    }
    return Cases(sender, receiving, class_id, students, moved)


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


def moved_lookup_code(pipeline: Pipeline, cases: Cases) -> str:
    """The code printed on the paper học bạ the family brings (the sending school's record of the student)."""
    return next(
        r["lookup_code"]
        for r in pipeline.year_records(cases.sender)
        if r["student_id"] == cases.moved["student_id"]
    )


def hand_over(pipeline: Pipeline, cases: Cases) -> str:
    """Before the receiving school's year is locked: its clerk asks, the sending principal approves (the học bạ is
    handed over at the province and to the receiving school's transcript service, which continues its code)."""
    code = moved_lookup_code(pipeline, cases)
    done = [
        r
        for r in pipeline.transfer_requests(cases.receiving)["sent"]
        if r["from_school"] == cases.sender.school_id and r["status"] == "approved"
    ]
    if done:
        return f"the transfer of {cases.moved['full_name']} was approved by an earlier run"
    asked = pipeline.request_transfer(cases.receiving, cases.sender.school_id, code)
    approved = pipeline.approve_transfer(cases.sender, asked["id"])
    return (
        f"{cases.receiving.name}'s clerk asks {cases.sender.name} for {cases.moved['full_name']}'s học bạ (code "
        f"{code}); its principal approves ({approved['status']}): handed over at the province"
    )


def summer(pipeline: Pipeline, cases: Cases) -> str:
    """The re-test and the summer training, then the principal's summer lock; skipped once an earlier run locked it."""
    retest, training = cases.student(RETEST)["student_id"], cases.student(SUMMER_CONDUCT)["student_id"]
    year = pipeline.results(cases.receiving, cases.class_id, retest)["year"]
    if year.get("promotion_after_retest"):
        return "the summer was locked by an earlier run"
    locked = pipeline.summer(
        cases.receiving,
        cases.class_id,
        {RETEST_SUBJECT: {retest: RETEST_RESULT}},
        {training: "Đạt"},
    )
    decided = ", ".join(f"{s['student_id']} → {s['promotion_after_retest']}" for s in locked["students"])
    return (
        f"the Toán teacher enters the re-test ({RETEST_RESULT}), the homeroom teacher the conduct after the summer "
        f"(Đạt), the principal locks the summer: {decided}"
    )


def _latest(pipeline: Pipeline, demo: DemoSchool, student_id: str) -> dict[str, Any] | None:
    mine = [r for r in pipeline.year_records(demo) if r["student_id"] == student_id]
    return max(mine, key=lambda r: r["version"]) if mine else None


def summer_reported(pipeline: Pipeline, cases: Cases) -> bool:
    """Both summer students' records decided again (version 2) are accepted by the province."""
    for case in (RETEST, SUMMER_CONDUCT):
        latest = _latest(pipeline, cases.receiving, cases.student(case)["student_id"])
        if latest is None or latest["version"] < 2:
            return False
        held = pipeline.at_province(cases.receiving, year_record_id=latest["id"])
        if not any(
            r["version"] == latest["version"] and r["status"] in ("current", "effective") for r in held
        ):
            return False
    return True


def follow_summer(pipeline: Pipeline, cases: Cases, timeout: float = 900) -> int:
    """The signers sign the two records decided again until the province holds them; returns signatures."""
    signatures, deadline = 0, time.monotonic() + timeout
    while not summer_reported(pipeline, cases):
        if time.monotonic() > deadline:
            raise TimeoutError("the summer's records were not reported in time; see var/demo-logs/")
        signatures += pipeline.sign_waiting(cases.receiving)
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
    """A line or two per case: the student, what the year decided, the path to the province, `hocba verify`."""
    lines, failed = [], 0
    receiving = cases.receiving
    for case in CASES:
        student = cases.student(case)
        sid = student["student_id"]
        got = pipeline.results(receiving, cases.class_id, sid)
        year, averages = got["year"], got["averages"]
        latest = _latest(pipeline, receiving, sid)
        if latest is None:
            lines.append(f"{LABELS[case]}: {student['full_name']} ({sid}) has no record")
            failed += 1
            continue
        if case == RETEST:
            decided = (
                f"Toán {averages.get('toan.year')} → học tập {year.get('learning_result')}, "
                f"{year.get('promotion')}; re-test {averages.get('toan.year_after_retest')} → học tập "
                f"{year.get('learning_result_after_retest')}, {year.get('promotion_after_retest')}"
            )
        elif case == SUMMER_CONDUCT:
            decided = (
                f"rèn luyện {year.get('conduct')} → {year.get('promotion')}; after the summer "
                f"{year.get('conduct_after_summer')} → {year.get('promotion_after_retest')}"
            )
        elif case == EXEMPT:
            decided = (
                f"Giáo dục thể chất {averages.get('gdtc.year')}; học tập {year.get('learning_result')} "
                f"({got['explanations'].get('learning_result.year')})"
            )
        else:
            decided = f"học tập {year.get('learning_result')}, rèn luyện {year.get('conduct')} → {year.get('promotion')}"
        verdict = verdicts.get(f"{sid}-{latest['school_year']}.pdf")
        passed = bool(verdict and verdict["passed"])
        failed += not passed
        # The summer's students end with the record decided again (version 2); the others with their year-end one.
        failed += (latest["version"] >= 2) != (case in (RETEST, SUMMER_CONDUCT))
        lines.append(f"{LABELS[case]}: {student['full_name']} ({sid}, {receiving.name}): {decided}")
        lines.append(
            f"   to the province: {_path(pipeline, receiving, latest['transcript_id'], latest['school_year'])}; "
            f"hocba verify {sid}-{latest['school_year']}.pdf: "
            f"{verdict['indication'] if verdict else 'NOT COLLECTED'}"
        )
        if case == TRANSFERRED:
            line, bad = _transfer(pipeline, cases, latest, verdicts)
            lines.extend(line)
            failed += bad
    return lines, failed


def _transfer(
    pipeline: Pipeline, cases: Cases, latest: dict[str, Any], verdicts: dict[str, dict[str, Any]]
) -> tuple[list[str], int]:
    code = moved_lookup_code(pipeline, cases)
    sent = next(
        r
        for r in pipeline.year_records(cases.sender)
        if r["student_id"] == cases.moved["student_id"] and r["status"] != "replaced"
    )
    verdict = verdicts.get(f"{cases.moved['student_id']}-{sent['school_year']}.pdf")
    page = http_client.get(f"{gateway_url()}/hocba/{code}", timeout=30)
    years = [y for y in (sent["school_year"], latest["school_year"]) if f"Năm học {y}" in page.text]
    same = latest["lookup_code"] == code
    ok = same and len(years) == 2 and page.status_code == 200 and bool(verdict and verdict["passed"])
    return [
        f"   at {cases.sender.name} ({cases.moved['student_id']}, {sent['school_year']}): "
        f"{_path(pipeline, cases.sender, sent['transcript_id'], sent['school_year'])}; hocba verify: "
        f"{verdict['indication'] if verdict else 'NOT COLLECTED'}",
        f"   one lookup code {'(the same at both schools)' if same else 'DIFFERS between the schools'}: "
        f"{gateway_url()}/hocba/{code} opens {' and '.join(years) or 'no year'} "
        f"(HTTP {page.status_code}); this case is a year-end transfer (mid-year ones carry term I: not in the demo)",
    ], 0 if ok else 1
