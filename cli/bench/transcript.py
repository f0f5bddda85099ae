"""`hocba bench transcript`: year records per second (XML + PDF/A-3) for a class, against bare lxml and bare fpdf2
doing the same documents in the same run."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table


def sample_records(students: int) -> list[Any]:
    """A class of grade-8 year records the size of the pipeline's: both terms and the year per subject (averages as
    TT22 computes them), the three periods, the promotion and the student's printed details, as the transcript
    service assembles them after the year's lock."""
    from sandbox.sample_school import SCORED, SUBJECTS, build, homeroom_for, marks_for
    from services.gradebook.domain import tt22
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
    homeroom = {t: {e["student_id"]: e for e in homeroom_for(school, class_id, t)} for t in ("hk1", "hk2")}
    teachers = {t["teacher_id"]: t["full_name"] for t in school.teachers}

    def term_marks(code: str, entry: dict[str, Any], term: str) -> tuple[TermMarks, Decimal | None]:
        marks = (tuple(entry["regular"]), entry["midterm"], entry["final"])
        if code not in SCORED:  # assessed by comment: Đ / CĐ each, the term's result the final's
            return TermMarks(*marks, result=entry["final"]), None
        regular = [Decimal(r) for r in entry.get("regular", ())]
        average = tt22.term_average(
            regular, Decimal(entry["midterm"]), Decimal(entry["final"]), term=term
        ).value
        return TermMarks(*marks, average=str(average)), average

    records = []
    for s in school.students_of(class_id):
        sid = s["student_id"]
        lines = []
        for code, _ in SUBJECTS:
            (hk1, a1), (hk2, a2) = (term_marks(code, marks[(code, t)][sid], t) for t in ("hk1", "hk2"))
            year = str(tt22.year_average(a1, a2).value) if a1 is not None and a2 is not None else hk2.result
            teacher = school.teacher_of(class_id, code)
            lines.append(SubjectLine(code, subject(code, 8).name, teacher, teachers[teacher], hk1, hk2, year))
        plan = plan_signatures(
            lines,
            (school.homeroom_of(class_id), teachers[school.homeroom_of(class_id)]),
            ("ht", "Hiệu trưởng"),
            (school.school_id, "Trường THCS Nguyễn Du"),
        )
        periods = tuple(
            PeriodResult(
                term,
                "Khá",
                homeroom[term][sid]["conduct"],
                homeroom[term][sid]["absences"],
                homeroom[term][sid]["homeroom_comment"],
            )
            for term in ("hk1", "hk2")
        ) + (
            PeriodResult(
                "year",
                "Khá",
                homeroom["hk2"][sid]["conduct"],
                homeroom["hk1"][sid]["absences"] + homeroom["hk2"][sid]["absences"],
            ),
        )
        records.append(
            YearRecord(
                lookup_code=new_lookup_code(),
                transcript_id=f"hb-{sid}",
                year_record_id=f"yr-{sid}",
                version=1,
                school_id=school.school_id,
                school_name="Trường THCS Nguyễn Du",
                school_level="lower_secondary",
                school_province="Hà Nội",
                student_id=sid,
                moet_code=s["moet_code"],
                full_name=s["full_name"],
                school_year="2025-2026",
                class_name="8A1",
                grade=8,
                circular="tt22",
                subjects=tuple(lines),
                periods=periods,
                year_result="Khá",
                promotion="Được lên lớp",
                signature_plan=plan,
                lookup_url="https://tracuu.hocba.vn/hocba/x",
                personal_id=s["personal_id"],
                gender=s["gender"],
                birth_date=date.fromisoformat(s["birth_date"]),
                birth_place=s["birth_place"],
                ethnicity=s["ethnicity"],
                register_number=s["register_number"],
                effective_date=date(2026, 6, 30),
            )
        )
    return records


def run(students: int, console: Console) -> dict[str, Any]:
    from cli.bench.transcript_baseline import bare_fpdf, bare_lxml, page_count, plain_tree
    from services.transcript.documents import pdf_form, xml_package

    records = sample_records(students)
    # Warmed up alike: our schema and font caches, the baseline's faces and schema, one document each.
    warm = xml_package.build(records[0])
    pdf_form.render(warm)
    bare_lxml([plain_tree(warm)])
    bare_fpdf([(plain_tree(warm), page_count(pdf_form.render(warm)), warm)])
    with console.status(f"building {students} XML packages"):
        started = time.monotonic()
        packages = [xml_package.build(r) for r in records]
        xml_s = time.monotonic() - started
    with console.status(f"rendering {students} PDF/A-3 pages"):
        started = time.monotonic()
        pdfs = [pdf_form.render(package) for package in packages]
        pdf_s = time.monotonic() - started
    # The baseline's input, outside its timing: each package's elements as plain tuples, each PDF's page count.
    trees = [plain_tree(p) for p in packages]
    pages = [page_count(p) for p in pdfs]
    with console.status(f"baseline: bare lxml, {students} packages"):
        started = time.monotonic()
        bare_lxml(trees)
        bare_xml_s = time.monotonic() - started
    with console.status(f"baseline: bare fpdf2, {sum(pages)} pages"):
        started = time.monotonic()
        bare_fpdf(list(zip(trees, pages, packages, strict=True)))
        bare_pdf_s = time.monotonic() - started
    ours = xml_s + pdf_s
    bare = bare_xml_s + bare_pdf_s
    result = {
        "students": students,
        "xml_bytes_each": round(sum(map(len, packages)) / students),
        "pages_each": round(sum(pages) / students, 2),
        "records_per_s": round(students / ours, 1),
        "xml_ms_each": round(1000 * xml_s / students, 2),
        "pdf_ms_each": round(1000 * pdf_s / students, 2),
        "pdf_to_xml_ratio": round(pdf_s / xml_s, 1),
        "baseline_records_per_s": round(students / bare, 1),
        "baseline_xml_ms_each": round(1000 * bare_xml_s / students, 2),
        "baseline_pdf_ms_each": round(1000 * bare_pdf_s / students, 2),
        "ratio": round(bare / ours, 2),
        "ratio_xml": round(bare_xml_s / xml_s, 2),
        "ratio_pdf": round(bare_pdf_s / pdf_s, 2),
    }
    table = Table(title=f"transcript, a class of {students} grade-8 records, same run")
    for column in ("step", "ours ms each", "baseline ms each", "ratio (baseline / ours time)"):
        table.add_column(column)
    table.add_row(
        "XML: ours (build, XSD validation, c14n) | bare lxml: the same elements, XSD validation, c14n",
        f"{result['xml_ms_each']}",
        f"{result['baseline_xml_ms_each']}",
        f"{result['ratio_xml']}",
    )
    table.add_row(
        f"PDF: ours (the form, PDF/A-3, XML attached, signature fields) | bare fpdf2: every value of the package "
        f"as one-line cells, the same two Noto faces, the same page count ({result['pages_each']}), PDF/A-3, "
        "XML attached, no signature fields",
        f"{result['pdf_ms_each']}",
        f"{result['baseline_pdf_ms_each']}",
        f"{result['ratio_pdf']}",
    )
    table.add_row(
        "[bold]year records per second[/bold]",
        f"{result['records_per_s']}/s",
        f"{result['baseline_records_per_s']}/s",
        f"[bold]{result['ratio']}[/bold]",
    )
    Console().print(table)
    Console().print(
        f"records of {result['xml_bytes_each']} XML bytes and {result['pages_each']} pages each; "
        f"ours PDF / XML time {result['pdf_to_xml_ratio']}"
    )
    return result
