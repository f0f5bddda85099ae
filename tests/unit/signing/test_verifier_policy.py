"""The policy alone, on hand-made facts: no PDF, no signing (what the readers observe is tested in the tamper suite)."""

from __future__ import annotations

from dataclasses import replace

from services.signing.domain.model import Plan, Step
from services.signing.verifier.model import PdfFacts, PdfSignature, RecordFacts, Signer, SubjectLine
from services.signing.verifier.page import page_disagreements
from services.signing.verifier.policy import judge, signer_matches

SCHOOL = "Trường THCS Thử Nghiệm"
PLAN = Plan(
    (
        Step(1, "subject_teacher", "gv_01", "gv-an", "Nguyễn Văn An"),
        Step(2, "principal", "hieu_truong", "ht-cuong", "Lê Văn Cường"),
        Step(3, "school_seal", "dau_truong", "s-thu-nghiem", SCHOOL),
    )
)
RECORD = RecordFacts(
    PLAN, SCHOOL, "Phạm Thị Ngọc Ánh", "8A1", "2025-2026", (SubjectLine("Toán", ("7,8", "8,3", "8,1")),)
)
PAGE = "Năm học 2025-2026 - Lớp 8A1\nHọ và tên học sinh: Phạm Thị Ngọc Ánh\nToán 7,8 8,3 8,1 Nguyễn Văn An\n"
XML = b"<YearRecord/>"


def signature(step: Step, revision: int, signer: Signer, **changes: object) -> PdfSignature:
    sig = PdfSignature(
        field=step.field_name, revision=revision, signer=signer, claimed_roles=(step.claimed_role,), time=None,
        timestamped=True, level="B-T", intact=True, valid=True, trusted=True, revoked=False, trust_problem=None,
        trust_problem_is_failure=False, modification_level="LTA_UPDATES" if step.is_seal else "FORM_FILLING",
        docmdp_ok=True, bottom_line=True,
    )  # fmt: skip
    return replace(sig, **changes)  # type: ignore[arg-type]


def facts(*signatures: PdfSignature) -> PdfFacts:
    return PdfFacts("0" * 64, signatures, (), XML, (), {s.revision: XML for s in signatures}, PAGE)


AN = Signer("Nguyễn Văn An", SCHOOL, None)
CUONG = Signer("Lê Văn Cường", SCHOOL, None)
SEAL = Signer(SCHOOL, SCHOOL, None)
GOOD = (signature(PLAN.step(1), 2, AN), signature(PLAN.step(2), 3, CUONG), signature(PLAN.step(3), 4, SEAL))


def failed(*signatures: PdfSignature) -> dict[str, str]:
    return {c.name: c.detail for c in judge(RECORD, facts(*signatures)).checks if not c.passed}


def test_a_complete_plan_signed_in_order_passes() -> None:
    judged = judge(RECORD, facts(*GOOD))
    assert all(c.passed for c in judged.checks)
    assert {v.indication for v in judged.pdf_verdicts} == {"TOTAL_PASSED"}


def test_a_subject_serial_number_must_be_the_planned_signers_id() -> None:
    step = PLAN.step(1)
    assert signer_matches(step, replace(AN, serial_number="gv-an"), SCHOOL)
    assert not signer_matches(step, replace(AN, serial_number="gv-khac"), SCHOOL)
    found = failed(replace(GOOD[0], signer=replace(AN, serial_number="gv-khac")), *GOOD[1:])
    assert found == {
        "signers": "Chữ ký của bước 1 không phải của Nguyễn Văn An (chứng thư số cấp cho Nguyễn Văn An)."
    }


def test_the_seal_is_recognised_by_the_schools_organisation_or_common_name() -> None:
    assert signer_matches(PLAN.seal, Signer("HSM key 7", SCHOOL, None), SCHOOL)
    assert not signer_matches(PLAN.seal, Signer("Trường khác", "Trường khác", None), SCHOOL)


def test_a_claimed_role_for_another_step_is_refused() -> None:
    wrong = replace(GOOD[1], claimed_roles=(PLAN.step(1).claimed_role,))
    assert "roles" in failed(GOOD[0], wrong, GOOD[2])


def test_a_revoked_certificate_fails_with_revoked() -> None:
    judged = judge(RECORD, facts(GOOD[0], replace(GOOD[1], revoked=True), GOOD[2]))
    assert [v.sub_indication for v in judged.pdf_verdicts] == [None, "REVOKED", None]


def test_a_seal_followed_by_form_filling_is_a_change_after_the_seal() -> None:
    assert "nothing_after_seal" in failed(*GOOD[:2], replace(GOOD[2], modification_level="FORM_FILLING"))


def test_an_unsigned_document_is_a_format_failure() -> None:
    judged = judge(RECORD, facts())
    intact = next(c for c in judged.checks if c.name == "signatures_intact")
    assert intact.sub_indication == "FORMAT_FAILURE"


def test_the_page_must_show_the_whole_name_and_every_value_in_its_row() -> None:
    assert page_disagreements(RECORD, PAGE) == []
    assert page_disagreements(RECORD, PAGE.replace("Ánh", "Ánhx")) == [
        "Trang in không có họ tên học sinh «Phạm Thị Ngọc Ánh» như trong XML."
    ]
    assert page_disagreements(RECORD, PAGE.replace("8,1 Nguyễn", "9,6 Nguyễn")) == [
        "Trang in không khớp XML ở môn Toán (XML: 7,8 8,3 8,1)."
    ]
