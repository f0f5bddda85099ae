"""A record with a term another school assessed (a student who joined during the year) signs, seals and verifies
like any other: the plan asks this school's teachers for term II and the year only, and `hocba verify` passes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from services.signing.documents import pdf as pdf_doc
from services.transcript.domain.model import PeriodResult, TermMarks
from services.transcript.domain.plan import plan_signatures
from tests.integration.signing.records import PRINCIPAL, SCHOOL, TEACHER_B, documents, year_record
from tests.integration.signing.signed import sign_package, sign_steps

SENDER = ("thcs-tran-phu", "Trường THCS Trần Phú")


def carried_record():  # type: ignore[no-untyped-def]
    record = year_record()
    subjects = tuple(
        replace(
            line, hk1=TermMarks(average=line.hk1.average, assessed_by=SENDER[0], assessed_by_name=SENDER[1])
        )
        for line in record.subjects
        if line.hk1 is not None
    )
    return replace(
        record,
        subjects=subjects,
        periods=(
            PeriodResult("hk1", "Khá", "Khá", 2, school=SENDER),
            PeriodResult("hk2", "Tốt", "Tốt", 1, school=SCHOOL),
            PeriodResult("year", "Khá", "Tốt", 3),
        ),
        signature_plan=plan_signatures(
            subjects, TEACHER_B, PRINCIPAL, SCHOOL, conduct_elsewhere=frozenset({"hk1"})
        ),
    )


def test_a_record_with_a_carried_term_is_signed_sealed_and_verified(tmp_path: Path) -> None:
    record = carried_record()
    teachers = [s for s in record.signature_plan if s.role == "subject_teacher"]
    assert teachers and all(c.endswith((":hk2", ":year")) for s in teachers for c in s.covers)
    xml, pdf, plan = documents(record)
    signed = sign_steps(pdf_doc.add_signature_fields(pdf, plan), plan, [s.order for s in plan.steps])
    (tmp_path / "hocba.pdf").write_bytes(signed)
    (tmp_path / "hocba.xml").write_bytes(sign_package(xml, plan))
    result = CliRunner().invoke(
        app, ["verify", str(tmp_path / "hocba.pdf"), "--xml", str(tmp_path / "hocba.xml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["indication"] == "TOTAL_PASSED" and all(c["passed"] for c in report["checks"]), report
