"""schemathesis against all five services, real tokens and a seeded school's ids: no server error, refusals in Vietnamese."""

import resource
import uuid

import pytest
from sqlalchemy import create_engine

from cli.fuzz.run import SERVICES, fuzz, routes_of
from cli.fuzz.seed import seed_school
from sandbox.issuer import mint_token
from services.audit.service import AuditService
from services.gradebook.service import GradebookService
from services.runtime.settings import get_settings
from services.signing.service import SigningService
from services.sync.service import SyncService
from services.sync.store.tables import submissions, transfer_requests
from services.transcript.service import TranscriptService
from tests.helpers import running
from tests.integration.signing.conftest import animator as animator  # the fixture: signing's and audit's TSA
from tests.integration.signing.test_record_access import insert_collecting_record

pytestmark = pytest.mark.integration

CLASSES = {
    "gradebook": GradebookService,
    "transcript": TranscriptService,
    "signing": SigningService,
    "sync": SyncService,
    "audit": AuditService,
}
MAX_EXAMPLES = (
    4  # valid and as many invalid requests per operation: make test's CPU budget; `hocba fuzz` runs more
)


def mint(user: str, roles: list[str], school: str | None) -> str:
    return mint_token(get_settings(), user_id=user, roles=roles, school_id=school)


@pytest.fixture(scope="module")
def urls(amqp_uri, service_databases, animator):
    with (
        running(GradebookService, amqp_uri, max_workers=3) as gradebook,
        running(TranscriptService, amqp_uri, max_workers=3) as transcript,
        running(SigningService, amqp_uri, max_workers=3) as signing,
        running(SyncService, amqp_uri, max_workers=3) as sync,
        running(AuditService, amqp_uri, max_workers=3) as audit,
    ):
        containers = dict(zip(SERVICES, (gradebook, transcript, signing, sync, audit), strict=True))
        yield {name: c.http_url for name, c in containers.items()}


def accepted_submission(school: str, record: str) -> dict[str, object]:
    """A record of ``school`` the province holds, as sync stores it once the gateway accepted it."""
    return {
        "year_record_id": record,
        "school_id": school,
        "class_id": f"{school}-9a1",
        "student_id": f"{school}-hs-9",
        "transcript_id": f"hb-{record}",
        "school_year": "2024-2025",
        "grade": 9,
        "version": 1,
        "assessment": "regular",
        "lookup_code": uuid.uuid4().hex,
        "pdf_sha256": "0" * 64,
        "xml_sha256": "0" * 64,
        "status": "accepted",
        "operation": "submit",
        "idempotency_key": f"hocba:{record}:v1:submit",
        "gateway_record_id": f"gw-{record}",
    }


@pytest.fixture(scope="module")
def seeds(urls, service_databases):
    """The school through the APIs (cli/fuzz/seed.py); then what only another service's events would bring here,
    where no relay runs: signing's record of the digitised year, sync's records held by the province (one of
    another school, which this school asks for by its lookup code; one of this school, which that school asks for)."""
    seeds = seed_school(urls, mint)
    school, record = seeds.school_id, seeds.values["record_id"][0]
    engine = create_engine(service_databases["signing"])
    insert_collecting_record(engine, school, record)
    engine.dispose()
    other = f"thcs-khac-{uuid.uuid4().hex[:6]}"
    theirs, ours = accepted_submission(other, f"yr-{other}"), accepted_submission(school, f"yr-{school}-9")
    engine = create_engine(service_databases["sync"])
    with engine.begin() as conn:
        conn.execute(submissions.insert(), [theirs, ours])
        conn.execute(
            transfer_requests.insert().values(
                id=f"ct-{uuid.uuid4().hex[:16]}",
                from_school=school,
                to_school=other,
                transcript_id=ours["transcript_id"],
                status="pending",
                requested_by="van-thu-khac",
            )
        )
        request_id = conn.execute(
            transfer_requests.select().with_only_columns(transfer_requests.c.id)
        ).scalar()
    engine.dispose()
    seeds.add("year_record_id", str(ours["year_record_id"]))
    seeds.add("request_id", str(request_id))
    seeds.body.update(from_school=[other], lookup_code=[str(theirs["lookup_code"])])
    return seeds


# The routes that call the province's gateway, which this stack does not run: their 502/503 problems say so (in
# Vietnamese), and are the only 5xx the run may see.
GATEWAY_ROUTES = {
    "sync GET /schools/{school_id}/sync/incoming",
    "sync GET /schools/{school_id}/sync/incoming/{record_id}/{kind}",
    "sync POST /schools/{school_id}/sync/transfer-requests/{request_id}/approve",
}


def test_no_operation_answers_a_server_error_and_every_refusal_is_a_vietnamese_problem(urls, seeds):
    before = resource.getrusage(resource.RUSAGE_SELF)
    report = fuzz(urls, seeds, mint, max_examples=MAX_EXAMPLES)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"[fuzz] {report.summary()} cpu={cpu:.1f}s")
    operations = sum(len(routes_of(service)) for service in SERVICES)  # every route of every route table
    assert len(report.operations) == operations and report.examples >= operations * MAX_EXAMPLES
    assert report.server_errors == 0, report.failures
    assert report.failures == []
    assert set(report.dependency_answers()) <= GATEWAY_ROUTES
    # Real ids: every operation got an answer other than "not found" at least once.
    assert report.summary()["only_404"] == []
