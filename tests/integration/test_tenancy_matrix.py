"""Tenancy of transcript, signing, sync and audit, route by route from their OpenAPI documents (gradebook's own
matrix is tests/integration/gradebook/test_tenancy.py): school A's caller naming school B's ids is answered exactly
as for ids nobody has, and nothing of B changes."""

import inspect
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from sqlalchemy import create_engine, text
from sqlalchemy import inspect as sql_inspect

from sandbox.issuer import mint_token
from services.audit.service import AuditService
from services.gradebook.service import GradebookService
from services.runtime import http_client
from services.runtime.settings import get_settings
from services.signing.service import SigningService
from services.sync.service import SyncService
from services.transcript.service import TranscriptService
from tests.factories import digitised_year
from tests.helpers import digitise, running
from tests.integration.signing.conftest import animator as animator  # the fixture: signing's and audit's TSA
from tests.integration.signing.test_record_access import insert_collecting_record

pytestmark = pytest.mark.integration

OPENAPI = Path(__file__).parents[2] / "contracts" / "openapi"
SERVICES = {
    "gradebook": GradebookService,
    "transcript": TranscriptService,
    "signing": SigningService,
    "sync": SyncService,
    "audit": AuditService,
}
MATRIX = ("transcript", "signing", "sync", "audit")  # gradebook's rows live in its own matrix
# Every role a school's user can hold, so that only the school can be what refuses the call.
ALL_ROLES = ("principal", "staff", "teacher", "homeroom", "inspector")
# The service's plumbing, not the school's data.
PLUMBING = {"outbox", "inbox", "alembic_version"}
# Routes where a school's user is refused for the role before any school is looked at (the operator's), and routes
# that take ids in the body and answer per item: for those the answer for B's ids must still equal the answer for
# ids nobody has, but it is not a 404.
NOT_404 = {
    (
        "GET",
        "/signing/pending",
    ): 200,  # the caller's own steps only: B's class filters to nothing, as no class does
    ("PUT", "/schools/{school_id}/sync/credentials"): 403,
    ("POST", "/signing/batches"): 422,  # no certificate yet: refused before any record is read
    ("POST", "/signing/batches/{batch_id}/signatures"): 200,  # each item refused, as for a batch nobody has
}


def openapi_routes(service: str) -> set[tuple[str, str]]:
    paths = json.loads((OPENAPI / f"{service}.json").read_text(encoding="utf-8"))["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops}


def served_routes(service_cls: type) -> set[tuple[str, str]]:
    """What the nameko class really serves, in OpenAPI spelling (``<any(pdf, xml):kind>`` → ``{kind}``)."""
    routes = set()
    for _, method in inspect.getmembers(service_cls):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            url = getattr(entrypoint, "url", None)
            if url is not None:
                routes.add((entrypoint.method, re.sub(r"<(?:[^:>]*:)?(\w+)>", r"{\1}", url)))
    return routes


# Served besides the documented user routes: health and metrics, the document itself, and the content-addressed
# documents that only another service's token reads (tests/integration/signing/test_workflow.py refuses a user's token there).
UNDOCUMENTED = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/documents/{sha256}"),
}


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_route_a_service_serves_is_in_its_openapi_document(service):
    assert served_routes(SERVICES[service]) - UNDOCUMENTED == openapi_routes(service)


@pytest.fixture(scope="module")
def stack(amqp_uri, service_databases, animator):
    with (
        running(TranscriptService, amqp_uri, max_workers=3) as transcript,
        running(SigningService, amqp_uri, max_workers=3) as signing,
        running(SyncService, amqp_uri, max_workers=3) as sync,
        running(AuditService, amqp_uri, max_workers=3) as audit,
    ):
        engines = {s: create_engine(service_databases[s]) for s in MATRIX}
        yield {
            "url": {
                "transcript": transcript.http_url,
                "signing": signing.http_url,
                "sync": sync.http_url,
                "audit": audit.http_url,
            },
            "db": engines,
        }
        for engine in engines.values():
            engine.dispose()


def token(school_id: str | None, user_id: str, *roles: str, inspects: tuple[str, ...] = ()) -> dict[str, str]:
    minted = mint_token(
        get_settings(), user_id=user_id, roles=roles, school_id=school_id, inspected_schools=inspects
    )
    return {"Authorization": f"Bearer {minted}"}


@pytest.fixture(scope="module")
def two_schools(stack):
    """School B with a digitised year (transcript) that is collecting signatures (signing)."""
    a, b = f"thcs-a{uuid.uuid4().hex[:5]}", f"thcs-b{uuid.uuid4().hex[:5]}"
    made = digitise(
        stack["url"]["transcript"],
        b,
        digitised_year("2024-2025", 7, "Học bạ giấy của trường B", f"{b}-hs-1"),
        token(b, "van-thu-b", "staff"),
    )
    record = made["year_record_id"]
    insert_collecting_record(stack["db"]["signing"], b, record)
    return {
        "a": a,
        "b": b,
        "c": f"thcs-c{uuid.uuid4().hex[:5]}",
        "record": record,
        "student": f"{b}-hs-1",
    }


def b_requests(w) -> dict[tuple[str, str, str], tuple[str, object]]:
    """(service, method, route) → (path with B's ids, a body A could plausibly send)."""
    b, record, student = w["b"], w["record"], w["student"]
    return {
        ("transcript", "GET", "/schools/{school_id}/records"): (f"/schools/{b}/records", None),
        ("transcript", "POST", "/schools/{school_id}/records/digitised"): (
            f"/schools/{b}/records/digitised",
            {
                **digitised_year("2025-2026", 8, "Chiếm học bạ"),
                "student": {**digitised_year("", 8, "")["student"], "student_id": student},
            },
        ),
        ("transcript", "GET", "/records/{record_id}/{kind}"): (f"/records/{record}/pdf", None),
        ("signing", "GET", "/records/{record_id}/{kind}"): (f"/records/{record}/xml", None),
        ("signing", "GET", "/signing/pending"): (f"/signing/pending?class_id={b}-7a1", None),
        ("signing", "POST", "/signing/batches"): (
            "/signing/batches",
            {"records": [{"year_record_id": record, "order": 1}]},
        ),
        ("signing", "POST", "/signing/batches/{batch_id}/signatures"): (
            f"/signing/batches/{uuid.UUID(int=7)}/signatures",
            {"signatures": [{"item_id": record, "pdf_signature": "AAAA", "xml_signature": "AAAA"}]},
        ),
        ("signing", "GET", "/schools/{school_id}/signing/status"): (f"/schools/{b}/signing/status", None),
        ("sync", "PUT", "/schools/{school_id}/sync/credentials"): (
            f"/schools/{b}/sync/credentials",
            {"token": "token-cua-truong-a"},
        ),
        ("sync", "GET", "/schools/{school_id}/sync/status"): (f"/schools/{b}/sync/status", None),
        ("sync", "POST", "/schools/{school_id}/sync/records/{year_record_id}/withdraw"): (
            f"/schools/{b}/sync/records/{record}/withdraw",
            {"reason": "Rút trái phép"},
        ),
        ("sync", "POST", "/schools/{school_id}/sync/transfer-requests"): (
            f"/schools/{b}/sync/transfer-requests",
            {"from_school": w["a"], "lookup_code": "0" * 32},
        ),
        ("sync", "GET", "/schools/{school_id}/sync/transfer-requests"): (
            f"/schools/{b}/sync/transfer-requests",
            None,
        ),
        ("sync", "POST", "/schools/{school_id}/sync/transfer-requests/{request_id}/approve"): (
            f"/schools/{b}/sync/transfer-requests/ct-1/approve",
            None,
        ),
        ("sync", "POST", "/schools/{school_id}/sync/transfer-requests/{request_id}/refuse"): (
            f"/schools/{b}/sync/transfer-requests/ct-1/refuse",
            {"reason": "Từ chối trái phép"},
        ),
        ("sync", "GET", "/schools/{school_id}/sync/incoming"): (f"/schools/{b}/sync/incoming", None),
        ("sync", "GET", "/schools/{school_id}/sync/incoming/{record_id}/{kind}"): (
            f"/schools/{b}/sync/incoming/{record}/pdf",
            None,
        ),
        ("audit", "GET", "/schools/{school_id}/audit"): (f"/schools/{b}/audit", None),
        ("audit", "GET", "/schools/{school_id}/audit/grades/{class_id}/{subject}/{term}/{student_id}"): (
            f"/schools/{b}/audit/grades/{b}-7a1/toan/hk1/{student}",
            None,
        ),
    }


def unknown(value, w):
    """The same request with B's ids replaced by ids nobody has."""
    if isinstance(value, dict):
        return {k: unknown(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown(v, w) for v in value]
    if isinstance(value, str):
        return (
            value.replace(w["record"], "yr-khong-co")
            .replace(w["student"], "hs-khong-co")
            .replace(w["b"], "truong-khong-co")
        )
    return value


def canonical(response: httpx.Response, w) -> object:
    """What the caller can tell from an answer: the ids it named back to it, and fresh uuids, read the same."""
    body = unknown(response.text, w).replace("truong-khong-co", "<b>")
    return response.status_code, re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", body
    )


def snapshot(engines) -> dict[str, list[str]]:
    out = {}
    for service, engine in engines.items():
        with engine.connect() as conn:
            for table in sorted(set(sql_inspect(conn).get_table_names()) - PLUMBING):
                out[f"{service}.{table}"] = sorted(
                    json.dumps(dict(r._mapping), default=str, sort_keys=True)
                    for r in conn.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608 - names from the catalogue
                )
    return out


def all_routes() -> list[tuple[str, str, str]]:
    return sorted((s, *r) for s in MATRIX for r in openapi_routes(s))


def test_the_matrix_covers_every_route_of_the_four_services(two_schools):
    assert set(all_routes()) == set(b_requests(two_schools)), (
        "a new route needs its row in the tenancy matrix"
    )


# Who asks with B's ids: school A's user with every role; an inspector of A and C; and school A's user with every
# role whose token lists B as inspected (only a pure inspector token gains listed schools: this one gains nothing).
CALLERS = {
    "school-a": lambda w: token(w["a"], "nguoi-a", *ALL_ROLES),
    "inspector-of-a-and-c": lambda w: token(None, "thanh-tra", "inspector", inspects=(w["a"], w["c"])),
    "school-a-listing-b": lambda w: token(w["a"], "nguoi-a", *ALL_ROLES, inspects=(w["b"],)),
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", all_routes(), ids=" ".join)
def test_school_a_with_school_b_ids_is_answered_as_for_unknown_ids_and_nothing_changes(
    stack, two_schools, route, caller
):
    w = two_schools
    service, method, _ = route
    path, body = b_requests(w)[route]
    base = stack["url"][service]
    before = snapshot(stack["db"])
    with http_client.client(base_url=base, headers=CALLERS[caller](w), timeout=30) as http:
        response = http.request(method, path, json=body)
        nobody = http.request(method, unknown(path, w), json=unknown(body, w))
    expected = {NOT_404.get(route[1:], 404)}
    if caller.startswith("inspector"):
        expected.add(403)  # a route refusing the inspector role before any school is looked at (signing's)
    assert response.status_code in expected, (route, response.status_code, response.text)
    assert canonical(response, w) == canonical(nobody, w), (
        "another school's id must answer like an unknown one"
    )
    assert snapshot(stack["db"]) == before


# A school's own listings, one per service, and what an inspector of the school gets: 200, or, past the school
# check, the route's own answer (transfer requests are the principal's and clerk's: 403; the incoming list asks the
# province's gateway, for which these schools have no credentials: 503). Never the 404 of another school.
SCHOOL_READS = {
    ("transcript", "/schools/{s}/records"): 200,
    ("signing", "/schools/{s}/signing/status"): 200,
    ("sync", "/schools/{s}/sync/status"): 200,
    ("sync", "/schools/{s}/sync/transfer-requests"): 403,
    ("sync", "/schools/{s}/sync/incoming"): 503,
    ("audit", "/schools/{s}/audit"): 200,
}


@pytest.fixture(scope="module")
def school_c_record(stack, two_schools):
    """A digitised year in school C, so the inspector of A and C has something of C's to read."""
    c = two_schools["c"]
    made = digitise(
        stack["url"]["transcript"],
        c,
        digitised_year("2024-2025", 7, "Học bạ giấy của trường C", f"{c}-hs-1"),
        token(c, "van-thu-c", "staff"),
    )
    return made["year_record_id"]


@pytest.mark.parametrize(("service", "route"), SCHOOL_READS, ids=[" ".join(r) for r in SCHOOL_READS])
def test_an_inspector_reads_exactly_the_schools_their_token_lists(
    stack, two_schools, school_c_record, service, route
):
    w = two_schools
    headers = token(None, "thanh-tra", "inspector", inspects=(w["a"], w["c"]))
    with http_client.client(base_url=stack["url"][service], headers=headers, timeout=30) as http:
        reads = {school: http.get(route.format(s=school)) for school in (w["a"], w["c"])}
        b = http.get(route.format(s=w["b"]))
        nobody = http.get(route.format(s="truong-khong-co"))
    for school, read in reads.items():
        assert read.status_code == SCHOOL_READS[(service, route)], (school, read.status_code, read.text)
    if service == "transcript":
        assert school_c_record in reads[w["c"]].text  # C's record, read by C's inspector
    assert b.status_code == 404, (b.status_code, b.text)
    assert canonical(b, w) == canonical(nobody, w)


@pytest.mark.parametrize(("service", "route"), SCHOOL_READS, ids=[" ".join(r) for r in SCHOOL_READS])
def test_another_role_listing_schools_in_the_claim_reads_none_of_them(stack, two_schools, service, route):
    w = two_schools
    for roles in (("principal",), ("staff",), ("principal", "inspector"), ("operator",)):
        headers = token(w["a"], "nguoi-a", *roles, inspects=(w["b"], w["c"]))
        for school in (w["b"], w["c"]):
            response = http_client.get(
                f"{stack['url'][service]}{route.format(s=school)}", headers=headers, timeout=30
            )
            assert response.status_code == 404, (roles, school, response.status_code, response.text)


@pytest.mark.parametrize("route", [r for r in all_routes() if r[1] == "GET"], ids=" ".join)
def test_an_operator_reads_no_school_s_data(stack, two_schools, route):
    w = two_schools
    service = route[0]
    path, _ = b_requests(w)[route]
    response = http_client.get(
        f"{stack['url'][service]}{path}", headers=token(None, "ops", "operator"), timeout=30
    )
    assert response.status_code in (403, 404), (route, response.status_code, response.text)


@pytest.mark.parametrize("service", MATRIX)
def test_served_openapi_matches_the_committed_document(stack, service):
    served = http_client.get(f"{stack['url'][service]}/openapi.json").json()
    committed = json.loads((OPENAPI / f"{service}.json").read_text(encoding="utf-8"))
    assert served == committed, "run `hocba contracts openapi` and commit the result"
