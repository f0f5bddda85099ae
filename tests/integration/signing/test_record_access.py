"""Who downloads a record being signed: its own signers and the school's leadership; another school gets a 404."""

import uuid

import pytest
from sqlalchemy import delete

from sandbox.issuer import mint_token
from services.runtime import http_client
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from services.signing.service import SigningService
from services.signing.store.tables import records, steps
from tests.helpers import running

pytestmark = pytest.mark.integration
PDF, XML = b"%PDF-1.7 chua ky xong", b"<GoiHocBa>chua ky xong</GoiHocBa>"


def insert_collecting_record(engine, school: str, record_id: str) -> None:
    """A record of ``school`` collecting signatures (a subject teacher, the homeroom teacher, the principal, the
    seal), written straight into signing's tables: the read routes read only them."""
    plan = [
        ("subject_teacher", "gv_01", "gv-toan", "Hà Văn Toán"),
        ("homeroom_teacher", "gvcn", "gvcn-7a1", "Lê Thị Chủ Nhiệm"),
        ("principal", "hieu_truong", "ht-1", "Đinh Văn Hiệu"),
        ("school_seal", "dau_truong", school, "Trường THCS Ba Đình"),
    ]
    with engine.begin() as conn:
        conn.execute(
            records.insert().values(
                year_record_id=record_id,
                school_id=school,
                class_id=f"{school}-7a1",
                student_id="hs-1",
                transcript_id="hb-1",
                school_year="2025-2026",
                grade=7,
                version=1,
                lookup_code=uuid.uuid4().hex,
                status="collecting",
                next_order=1,
                pdf=PDF,
                xml_package=XML,
                record_xml_sha256="0" * 64,
            )
        )
        conn.execute(
            steps.insert(),
            [
                {
                    "year_record_id": record_id,
                    "step_order": i,
                    "role": role,
                    "field_name": field,
                    "signer_id": signer,
                    "signer_name": name,
                    "covers": ["all"],
                }
                for i, (role, field, signer, name) in enumerate(plan, start=1)
            ],
        )


@pytest.fixture(scope="module")
def record(service_databases):
    """One record of school A collecting signatures; the test removes it again."""
    school = f"thcs-{uuid.uuid4().hex[:6]}"
    record_id = f"yr-{uuid.uuid4().hex[:16]}"
    engine = make_engine(service_databases["signing"])
    insert_collecting_record(engine, school, record_id)
    yield {"school": school, "id": record_id}
    with engine.begin() as conn:
        conn.execute(delete(steps).where(steps.c.year_record_id == record_id))
        conn.execute(delete(records).where(records.c.year_record_id == record_id))
    engine.dispose()


@pytest.fixture(scope="module")
def signing(amqp_uri, service_databases, animator):
    with running(SigningService, amqp_uri) as container:
        yield container.http_url


def as_(school_id: str | None, user_id: str, *roles: str) -> dict[str, str]:
    token = mint_token(get_settings(), user_id=user_id, roles=list(roles), school_id=school_id)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "who",
    [
        ("gv-toan", "teacher"),
        ("gvcn-7a1", "teacher", "homeroom"),
        ("ht-1", "principal"),
        ("ht-moi", "principal"),  # the school's principal, though the plan names the one before
        ("van-thu", "staff"),
        ("thanh-tra", "inspector"),
    ],
    ids=lambda w: "-".join(w),
)
def test_the_record_s_own_signers_and_the_school_s_leadership_download_it(signing, record, who):
    headers = as_(record["school"], *who)
    pdf = http_client.get(f"{signing}/records/{record['id']}/pdf", headers=headers)
    xml = http_client.get(f"{signing}/records/{record['id']}/xml", headers=headers)
    assert (pdf.status_code, pdf.content, xml.status_code, xml.content) == (200, PDF, 200, XML)


@pytest.mark.parametrize("roles", [("teacher",), ("teacher", "homeroom")], ids="-".join)
def test_a_teacher_the_plan_does_not_name_is_refused(signing, record, roles):
    refused = http_client.get(
        f"{signing}/records/{record['id']}/pdf", headers=as_(record["school"], "gv-khac", *roles)
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Giáo viên chỉ được tải học bạ có bước ký của mình."


def test_another_school_gets_exactly_the_answer_for_an_unknown_record(signing, record):
    for who in (("ht-b", "principal"), ("gv-toan", "teacher")):  # even a teacher with the same id elsewhere
        headers = as_("thcs-khac", *who)
        foreign = http_client.get(f"{signing}/records/{record['id']}/pdf", headers=headers)
        unknown = http_client.get(f"{signing}/records/yr-khong-co/pdf", headers=headers)
        assert foreign.status_code == unknown.status_code == 404
        assert foreign.json() == unknown.json()
        assert foreign.json()["detail"] == "Không tìm thấy bản ghi học bạ."


def test_the_school_s_signing_status_answers_another_school_like_an_unknown_one(signing, record):
    headers = as_("thcs-khac", "ht-b", "principal")
    foreign = http_client.get(f"{signing}/schools/{record['school']}/signing/status", headers=headers)
    unknown = http_client.get(f"{signing}/schools/truong-khong-co/signing/status", headers=headers)
    assert foreign.status_code == unknown.status_code == 404 and foreign.json() == unknown.json()


def test_an_operator_reads_no_record(signing, record):
    operator = as_(None, "ops", "operator")
    assert http_client.get(f"{signing}/records/{record['id']}/pdf", headers=operator).status_code == 403
    assert (
        http_client.get(f"{signing}/schools/{record['school']}/signing/status", headers=operator).status_code
        == 404
    )
