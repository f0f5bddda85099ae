"""`hocba bench transcript`: year records per second (XML + PDF/A-3) for a class of 45, and where the time goes."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table


def sample_records(students: int) -> list[Any]:
    from sandbox.sample_school import SUBJECTS, build, homeroom_for, marks_for
    from services.gradebook.domain.curriculum import subject
    from services.transcript.domain.model import (
        PeriodResult,
        SubjectLine,
        TermMarks,
        YearRecord,
        new_lookup_code,
    )
    from services.transcript.domain.plan import plan_signatures

    school = build("bench-transcript", classes=1, students_per_class=students)
    class_id = school.classes[0]["class_id"]
    marks = {
        (code, term): {e["student_id"]: e for e in marks_for(school, class_id, code, term)}
        for code, _ in SUBJECTS
        for term in ("hk1", "hk2")
    }
    homeroom = {e["student_id"]: e for e in homeroom_for(school, class_id, "hk2")}
    teachers = {t["teacher_id"]: t["full_name"] for t in school.teachers}
    records = []
    for s in school.students_of(class_id):
        lines = []
        for code, _ in SUBJECTS:
            terms = [marks[(code, t)][s["student_id"]] for t in ("hk1", "hk2")]
            teacher = school.teacher_of(class_id, code)
            hk1, hk2 = (
                TermMarks(
                    tuple(e.get("regular", ())), e.get("midterm"), e.get("final"), result=e.get("result")
                )
                for e in terms
            )
            lines.append(SubjectLine(code, subject(code, 8).name, teacher, teachers[teacher], hk1, hk2, None))
        plan = plan_signatures(
            lines,
            (school.homeroom_of(class_id), "GVCN"),
            ("ht", "Hiệu trưởng"),
            (school.school_id, "Trường THCS"),
        )
        records.append(
            YearRecord(
                lookup_code=new_lookup_code(),
                transcript_id=f"hb-{s['student_id']}",
                year_record_id=f"yr-{s['student_id']}",
                version=1,
                school_id=school.school_id,
                school_name="Trường THCS Nguyễn Du",
                school_level="lower_secondary",
                school_province="Hà Nội",
                student_id=s["student_id"],
                moet_code=s["moet_code"],
                full_name=s["full_name"],
                school_year="2025-2026",
                class_name="8A1",
                grade=8,
                circular="tt22",
                subjects=tuple(lines),
                periods=(
                    PeriodResult(
                        "hk2",
                        "Khá",
                        homeroom[s["student_id"]]["conduct"],
                        homeroom[s["student_id"]]["absences"],
                        homeroom[s["student_id"]]["homeroom_comment"],
                    ),
                ),
                signature_plan=plan,
                lookup_url="https://tracuu.hocba.vn/hocba/x",
            )
        )
    return records


def run(students: int, console: Console) -> dict[str, Any]:
    from services.transcript.documents import pdf_form, xml_package

    records = sample_records(students)
    xml_package.build(records[0])  # warm the schema and font caches: a service does this once
    pdf_form.render(xml_package.build(records[0]))
    with console.status(f"building {students} XML packages"):
        started = time.monotonic()
        packages = [xml_package.build(r) for r in records]
        xml_s = time.monotonic() - started
    with console.status(f"rendering {students} PDF/A-3 pages"):
        started = time.monotonic()
        for package in packages:
            pdf_form.render(package)
        pdf_s = time.monotonic() - started
    result = {
        "students": students,
        "records_per_s": round(students / (xml_s + pdf_s), 1),
        "xml_ms_each": round(1000 * xml_s / students, 2),
        "pdf_ms_each": round(1000 * pdf_s / students, 2),
        "pdf_to_xml_ratio": round(pdf_s / xml_s, 1),
    }
    table = Table(title=f"transcript, a class of {students}, same run")
    table.add_column("measure")
    table.add_column("value")
    table.add_row("year records assembled (XML + PDF)", f"{result['records_per_s']}/s")
    table.add_row("XML build + XSD validation, each", f"{result['xml_ms_each']} ms")
    table.add_row("PDF/A-3 rendering, each", f"{result['pdf_ms_each']} ms")
    table.add_row("ratio PDF / XML time", f"{result['pdf_to_xml_ratio']}")
    Console().print(table)
    return result
