"""A digitised earlier year: the principal signs the step of a teacher who has left, and the report says so."""

from dataclasses import replace

from services.signing.documents import pdf as pdf_doc
from services.signing.verifier import verify
from services.signing.verifier.report import to_html
from services.transcript.domain.plan import plan_signatures
from tests.integration.signing.records import PRINCIPAL, SCHOOL, TEACHER_A, TEACHER_B, documents, year_record
from tests.integration.signing.signed import sign_package, sign_steps


def test_the_principal_signing_for_a_departed_teacher_passes_and_is_named_in_the_report():
    record = year_record()
    plan = plan_signatures(record.subjects, TEACHER_B, PRINCIPAL, SCHOOL, departed=frozenset({TEACHER_A[0]}))
    record = replace(record, signature_plan=plan, digitised_from="Sổ đăng bộ 12, trang 3")
    xml, pdf, steps = documents(record)
    assert steps.step(1).signer_id == PRINCIPAL[0] and steps.step(1).on_behalf_of == TEACHER_A[1]
    sealed = sign_steps(pdf_doc.add_signature_fields(pdf, steps), steps, [s.order for s in steps.steps])
    report = verify(sealed, sign_package(xml, steps))
    assert report.passed, report.reasons
    first = report.signatures[0]
    assert first.signer == PRINCIPAL[1] and first.on_behalf_of == TEACHER_A[1]
    assert "ký thay Nguyễn Văn An" in to_html(report)
