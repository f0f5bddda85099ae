"""The year record's documents: XML valid against the XSD and canonical; PDF/A-3 with readable Vietnamese and the
XML embedded as its associated file."""

import io
from dataclasses import replace

import pytest
from pypdf import PdfReader

from services.transcript.documents import pdf_form, xml_package
from services.transcript.domain.model import PeriodResult, SubjectLine, TermMarks, YearRecord, new_lookup_code
from services.transcript.domain.plan import plan_signatures


def secondary() -> YearRecord:
    subjects = (
        SubjectLine(
            "toan",
            "Toán",
            "gv1",
            "Nguyễn Thị Hằng",
            TermMarks(("8", "7.5", "9", "6"), "7", "8.5", "7.8"),
            TermMarks(("9", "8", "8", "7"), "8", "9", "8.3"),
            "8.1",
        ),
        SubjectLine(
            "ngu_van",
            "Ngữ văn",
            "gv2",
            "Trần Quốc Việt",
            TermMarks(("6", "7", "8", "7.5"), "6.5", "7", "6.9"),
            TermMarks(("8", "8", "9", "7"), "7.5", "8.5", "8.1"),
            "7.7",
        ),
        SubjectLine(
            "gdtc",
            "Giáo dục thể chất",
            "gv1",
            "Nguyễn Thị Hằng",
            TermMarks(result="Đ"),
            TermMarks(result="Đ"),
            "Đ",
        ),
    )
    return YearRecord(
        lookup_code=new_lookup_code(),
        transcript_id="hb-1",
        year_record_id="yr-1",
        version=1,
        school_id="s1",
        school_name="Trường THCS Nguyễn Du",
        school_level="lower_secondary",
        school_province="Hà Nội",
        student_id="st-1",
        moet_code="0123456789",
        full_name="Phạm Thị Ngọc Ánh",
        school_year="2025-2026",
        class_name="8A1",
        grade=8,
        circular="tt22",
        subjects=subjects,
        periods=(PeriodResult("hk1", "Khá", "Tốt", 2), PeriodResult("year", "Khá", "Tốt", 3)),
        promotion="lên lớp",
        signature_plan=plan_signatures(
            subjects, ("gv3", "Lê Thu Hà"), ("ht", "Đỗ Văn Hiệu"), ("s1", "Trường THCS Nguyễn Du")
        ),
        lookup_url="https://tracuu.example.vn/hocba/x",
    )


def primary() -> YearRecord:
    subjects = (
        SubjectLine(
            "tieng_viet",
            "Tiếng Việt",
            "gv7",
            "Hoàng Minh Đức",
            TermMarks(level="T", test=9),
            TermMarks(level="T", test=10),
            "T",
        ),
        SubjectLine(
            "dao_duc", "Đạo đức", "gv7", "Hoàng Minh Đức", TermMarks(level="H"), TermMarks(level="T"), "T"
        ),
    )
    return replace(
        secondary(),
        school_level="primary",
        school_name="Trường Tiểu học Kim Đồng",
        grade=4,
        circular="tt27",
        class_name="4B",
        full_name="Đặng Văn Hưởng",
        subjects=subjects,
        qualities=(("cham_chi", "T"),),
        competencies=(("tu_chu_tu_hoc", "Đ"),),
        year_result="Hoàn thành",
        signature_plan=plan_signatures(
            subjects, ("gv7", "Hoàng Minh Đức"), ("ht", "Vũ Thị Lan"), ("s2", "Trường Tiểu học Kim Đồng")
        ),
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
