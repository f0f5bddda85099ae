"""The year record's documents: XML valid against the XSD and canonical; PDF/A-3 with readable Vietnamese and the
XML embedded as its associated file."""

import io
import re
import subprocess
import tempfile
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from sandbox.sample_school import COMPETENCIES, PRIMARY_TESTED, QUALITIES, SCORED
from sandbox.sample_school import build as sample_school
from services.gradebook.domain.curriculum import subject
from services.transcript.documents import pdf_form, xml_package
from services.transcript.domain.model import (
    PeriodResult,
    SubjectLine,
    TermMarks,
    YearRecord,
    form_position,
)
from services.transcript.domain.plan import plan_signatures
from tests.factories import primary_year_record, year_record


def secondary() -> YearRecord:
    return year_record()


def primary() -> YearRecord:
    # The seal is planned for another school id than the record's (s2 against s1), as this test has always built it.
    return primary_year_record(
        school=("s2", "Trường Tiểu học Kim Đồng"),
        principal=("ht", "Vũ Thị Lan"),
        school_id="s1",
        full_name="Đặng Văn Hưởng",
        gender="Nam",
        birth_date=date(2016, 4, 24),
        birth_place="Xã Quỳnh Lưu, Nghệ An",
        ethnicity="Tày",
        register_number="042/2022",
        effective_date=date(2026, 8, 15),
    )


def test_xml_is_valid_and_the_same_record_gives_the_same_bytes():
    record = secondary()
    first, again = xml_package.build(record), xml_package.build(record)
    assert first == again
    root = xml_package.validate(first)
    assert (
        root.findtext("{urn:hocba:transcript:1}Identity/{urn:hocba:transcript:1}LookupCode")
        == record.lookup_code
    )
    steps = root.findall("{urn:hocba:transcript:1}SignaturePlan/{urn:hocba:transcript:1}Step")
    assert [s.get("role") for s in steps] == [
        "subject_teacher",
        "subject_teacher",
        "homeroom_teacher",
        "principal",
        "school_seal",
    ]
    assert steps[0].findall("{urn:hocba:transcript:1}Covers")[1].text == "gdtc"  # one teacher, both subjects


def test_the_schema_refuses_a_bad_record():
    with pytest.raises(xml_package.InvalidPackage, match="LookupCode"):
        xml_package.build(replace(secondary(), lookup_code="NOT-A-CODE"))
    tampered = xml_package.build(secondary()).replace(b"<Version>1</Version>", b"<Version>zero</Version>")
    with pytest.raises(xml_package.InvalidPackage):
        xml_package.validate(tampered)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            secondary(),
            [
                "Phạm Thị Ngọc Ánh",
                "HỌC BẠ TRUNG HỌC CƠ SỞ",
                "Toán",
                "7,8",
                "8,3",
                "8,1",
                "Ngữ văn",
                "Giáo dục thể chất",
                "Nguyễn Thị Hằng",
                "Đỗ Văn Hiệu",
                "Năm học 2025-2026",
            ],
        ),
        (
            primary(),
            [
                "Đặng Văn Hưởng",
                "HỌC BẠ TIỂU HỌC",
                "Tiếng Việt",
                "Đạo đức",
                "Hoàn thành",
                "Vũ Thị Lan",
                "Chăm chỉ: Tốt",
                "Tự chủ và tự học: Đạt",
            ],
        ),
    ],
)
def test_pdf_text_extracts_vietnamese_names_and_grades_and_embeds_the_xml(record, expected):
    xml = xml_package.build(record)
    pdf = pdf_form.render(xml)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in expected:
        assert words in text, words
    assert record.lookup_code in text  # on every page, with the QR code
    assert reader.attachments["hocba.xml"] == [xml]
    catalog = reader.trailer["/Root"]
    assert catalog["/AF"][0].get_object()["/AFRelationship"] == "/Data"
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b"pdfaid:part" in xmp and b"pdfaid:conformance" in xmp  # PDF/A-3B identification


def test_the_personal_id_is_in_the_package_and_on_the_page():
    record = replace(secondary(), personal_id="001311123456")
    xml = xml_package.build(record)
    assert b"<PersonalId>001311123456</PersonalId>" in xml
    text = PdfReader(io.BytesIO(pdf_form.render(xml))).pages[0].extract_text()
    assert "Số định danh cá nhân: 001311123456" in text
    with pytest.raises(xml_package.InvalidPackage):
        xml_package.build(replace(secondary(), personal_id="12345"))


@pytest.mark.parametrize("record", [secondary(), primary()], ids=["tt22", "tt27"])
def test_the_verifier_finds_every_xml_value_on_the_printed_form(record):
    """The verifier compares the page with the XML; both forms must satisfy it (the primary one has no year
    column), and a page that shows another level must not."""
    from services.signing.verifier.page import page_disagreements
    from services.signing.verifier.record import parse_record

    xml = xml_package.build(record)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_form.render(xml))).pages)
    assert page_disagreements(parse_record(xml), text) == []
    year_differs = replace(record, subjects=(replace(record.subjects[0], year="C"), *record.subjects[1:]))
    assert page_disagreements(parse_record(xml_package.build(year_differs)), text) != []


# --- the complete form (hocba-form.md): the student's details, the effective date, one page a year ----------------


def pdftotext(pdf: bytes) -> str:
    """What poppler reads off the page (another extractor than the verifier's pypdf)."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"[ \t]+", " ", done.stdout.decode())


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def demo_record(grade: int) -> YearRecord:
    """The first student of the demo school of that grade, with its class's subjects, teachers and signers."""
    school = sample_school(
        "th-kim-dong" if grade <= 5 else "thcs-nguyen-du", grade=grade, students_per_class=40
    )
    klass, student = school.classes[0], school.students[0]
    names = {t["teacher_id"]: t["full_name"] for t in school.teachers}
    lines = []
    for code, _ in school.subjects:
        teacher = school.teacher_of(klass["class_id"], code)
        if school.primary:
            test = 9 if code in PRIMARY_TESTED else None
            marks = (TermMarks(level="T", test=test), TermMarks(level="H", test=test), "H")
        elif code in SCORED:
            marks = (
                TermMarks(("8", "7.5", "9"), "7", "8.5", "7.8"),
                TermMarks(("9", "8"), "8", "9", "8.3"),
                "8.1",
            )
        else:
            marks = (TermMarks(result="Đ"), TermMarks(result="Đ"), "Đ")
        lines.append(SubjectLine(code, subject(code, grade).name, teacher, names[teacher], *marks))
    subjects = tuple(sorted(lines, key=lambda line: form_position(line.code)))
    homeroom = klass["homeroom_teacher_id"]
    return replace(
        secondary() if grade > 5 else primary(),
        grade=grade,
        class_name=klass["name"],
        full_name=student["full_name"],
        subjects=subjects,
        gender=student["gender"],
        birth_date=date.fromisoformat(student["birth_date"]),
        birth_place=student["birth_place"],
        ethnicity=student["ethnicity"],
        register_number=student["register_number"],
        effective_date=date(2026, 6, 30),
        qualities=tuple((q, "T") for q in QUALITIES) if school.primary else (),
        competencies=tuple((c, "T") for c in COMPETENCIES) if school.primary else (),
        periods=(
            PeriodResult("hk1", "Khá", "Tốt", 2),
            PeriodResult("hk2", "Tốt", "Tốt", 1, "Chăm ngoan, tích cực tham gia hoạt động của lớp."),
            PeriodResult("year", "Khá", "Tốt", 3),
        ),
        award="Học sinh Giỏi",
        signature_plan=plan_signatures(
            subjects,
            (homeroom, names[homeroom]),
            (school.principal_id, names[school.principal_id]),
            ("s", "T"),
        ),
    )


def details(record: YearRecord) -> list[str]:
    assert record.birth_date is not None and record.effective_date is not None
    return [
        f"Giới tính: {record.gender}",
        f"Ngày sinh: {record.birth_date:%d/%m/%Y}",
        f"Nơi sinh: {record.birth_place}",
        f"Dân tộc: {record.ethnicity}",
        f"Số đăng bộ: {record.register_number}",
        f"Ngày hiệu lực: {record.effective_date:%d/%m/%Y}",
        f"Phiên bản: {record.version}",
    ]


@pytest.mark.parametrize(
    "record", [secondary(), primary(), demo_record(8), demo_record(5)], ids=["tt22", "tt27", "demo8", "demo5"]
)
def test_both_levels_print_the_students_details_and_the_effective_date(record):
    xml = xml_package.build(record)
    root = xml_package.validate(xml)  # the new elements are in the XSD, in order
    ns = {"h": xml_package.NS}
    assert record.birth_date is not None and record.effective_date is not None
    assert root.findtext("h:Student/h:BirthDate", namespaces=ns) == record.birth_date.isoformat()
    assert root.findtext("h:Student/h:Gender", namespaces=ns) == record.gender
    assert root.findtext("h:Student/h:BirthPlace", namespaces=ns) == record.birth_place
    assert root.findtext("h:Student/h:Ethnicity", namespaces=ns) == record.ethnicity
    assert root.findtext("h:Student/h:RegisterNumber", namespaces=ns) == record.register_number
    assert root.findtext("h:Identity/h:EffectiveDate", namespaces=ns) == record.effective_date.isoformat()
    text = pdftotext(pdf_form.render(xml))
    for words in details(record):
        assert words in text, words


def test_the_version_and_the_record_it_replaces_are_printed():
    record = replace(secondary(), version=2, supersedes="yr-0123456789abcdef")
    text = pdftotext(pdf_form.render(xml_package.build(record)))
    assert "Phiên bản: 2" in text and "Thay thế bản: yr-0123456789abcdef" in text


def test_the_schema_refuses_a_birth_date_that_is_not_a_date():
    good = xml_package.build(secondary())
    with pytest.raises(xml_package.InvalidPackage, match="BirthDate"):
        xml_package.validate(
            good.replace(b"<BirthDate>2011-07-13</BirthDate>", b"<BirthDate>13/07/2011</BirthDate>")
        )
    with pytest.raises(xml_package.InvalidPackage, match="Gender"):
        xml_package.validate(good.replace(b"<Gender>N\xe1\xbb\xaf</Gender>", b"<Gender>X</Gender>"))


def test_a_record_from_before_the_new_fields_still_validates_and_prints():
    old = replace(
        secondary(),
        gender=None,
        birth_date=None,
        birth_place=None,
        ethnicity=None,
        register_number=None,
        effective_date=None,
    )
    text = pdftotext(pdf_form.render(xml_package.build(old)))
    assert "Ngày sinh: —" in text and "Số đăng bộ: —" in text


@pytest.mark.parametrize("grade", [8, 5])
def test_a_demo_sized_year_is_one_a4_page_with_a_box_per_signature(grade):
    """Grade 8: 12 subjects, 12 teachers + homeroom + principal + seal = 15 boxes; grade 5: 11 subjects, 9 boxes."""
    record = demo_record(grade)
    assert len(record.signature_plan) == (15 if grade == 8 else 9)
    pdf = pdf_form.render(xml_package.build(record))
    assert pages(pdf) == 1
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (595.28, 841.89), abs=0.1
    )
    text = pdftotext(pdf)
    for step in record.signature_plan:
        assert step.signer_name in text
    assert text.count("Giáo viên bộ môn:") == len(record.signature_plan) - 3


def drawn_rectangles(pdf: bytes, page: int = 0) -> list[tuple[float, float, float, float]]:
    """Every stroked rectangle on the page as (x0, y0, x1, y1) in points, from the content stream itself."""
    data = PdfReader(io.BytesIO(pdf)).pages[page].get_contents().get_data().decode("latin-1")
    found = []
    for x, y, w, h in re.findall(r"([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) re S", data):
        x0, y0, x1, y1 = float(x), float(y), float(x) + float(w), float(y) + float(h)
        found.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return found


@pytest.mark.parametrize("grade", [8, 5])
def test_the_signature_boxes_leave_room_for_a_three_line_stamp_and_overlap_nothing(grade):
    """Visible signature stamps go inside the boxes: ≥ 150 × 45 pt each, apart, above the footer's QR code."""
    record = demo_record(grade)
    pdf = pdf_form.render(xml_package.build(record))
    rectangles = drawn_rectangles(pdf)
    boxes = [r for r in rectangles if r[2] - r[0] >= 150 and r[3] - r[1] >= 45]
    assert len(boxes) == len(record.signature_plan)
    assert len({round(b[0]) for b in boxes}) == 3  # a grid, three to a row
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    table = [r for r in rectangles if r not in boxes]
    assert min(b[1] for b in boxes) > pdf_form.FOOTER_H * 72 / 25.4  # clear of the lookup code and QR code
    assert max(b[3] for b in boxes) < min(r[1] for r in table)  # below the subjects table and trait grid


def test_more_signers_than_fit_continue_on_a_second_page_without_overlap():
    record = demo_record(8)
    many = replace(
        record,
        subjects=record.subjects
        + tuple(
            replace(
                record.subjects[0], code=f"x{i}", teacher_id=f"extra{i}", teacher_name=f"Giáo viên Thêm {i}"
            )
            for i in range(6)
        ),
    )
    many = replace(
        many,
        signature_plan=plan_signatures(
            many.subjects, ("gvcn", "Lê Thu Hà"), ("ht", "Đỗ Văn Hiệu"), ("s", "Trường")
        ),
    )
    pdf = pdf_form.render(xml_package.build(many))
    assert pages(pdf) == 2
    assert "Trang 2/2" in pdftotext(pdf) and "Dấu của nhà trường" in pdftotext(pdf)


@pytest.mark.parametrize("record", [demo_record(8), demo_record(5)], ids=["tt22", "tt27"])
def test_the_form_stays_pdf_a_3b_and_qpdf_finds_nothing_wrong(record):
    pdf = pdf_form.render(xml_package.build(record))
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        check = subprocess.run(["qpdf", "--check", f.name], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert b"No syntax or stream encoding errors found" in check.stdout
    assert b"WARNING" not in check.stdout + check.stderr
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts  # every font embedded
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    # Element or attribute form, both valid RDF: pyHanko rewrites the packet in attribute form when the form's
    # signature fields are added, and keeps the identification.
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp or b'pdfaid:part="3"' in xmp
    assert b"<pdfaid:conformance>B</pdfaid:conformance>" in xmp or b'pdfaid:conformance="B"' in xmp
    raw = pdf  # no soft masks or constant alpha: nothing transparent for a PDF/A reader to flatten
    assert b"/SMask" not in raw and b"/CA " not in raw and b"/ca " not in raw


def test_a_name_beyond_the_latin_scripts_is_printed_whole():
    """The form is set in Noto cut to the Latin scripts (services/runtime/fonts.py), which has no Cyrillic or Greek:
    drawn in the cut alone, this name prints as "Nguyễn" only; the page is drawn again in the full faces."""
    printed = pdftotext(
        pdf_form.render(xml_package.build(replace(secondary(), full_name="Алексей Νίκος Nguyễn")))
    )
    assert "Họ và tên học sinh: Алексей Νίκος Nguyễn" in printed
