"""The gradebook round trip over HTTP: auth, problem+json errors, and the lock's events in the outbox."""

import httpx
import pytest
from sqlalchemy import select

from services.gradebook.service import GradebookService
from services.gradebook.store.tables import outbox
from services.runtime.auth import mint_token
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from tests.helpers import running

pytestmark = pytest.mark.integration

BODY = {"class_name": "8A1", "grade": 8, "school_year": "2025-2026"}


def token(role: str, school: str = "s-1") -> dict:
    return {
        "Authorization": f"Bearer {mint_token(get_settings(), user_id=f'{role}-1', roles=[role], school_id=school)}"
    }


@pytest.fixture(scope="module")
def gradebook(amqp_uri, service_databases):
    with running(GradebookService, amqp_uri) as container:
        yield container.http_url


def lock_url(base: str, class_id: str, term: str = "hk1", school: str = "s-1") -> str:
    return f"{base}/schools/{school}/classes/{class_id}/terms/{term}/lock"


def test_principal_locks_a_term_once_and_the_events_are_in_the_outbox(gradebook, service_databases, unique):
    response = httpx.post(lock_url(gradebook, f"c-{unique}"), json=BODY, headers=token("principal"))
    assert response.status_code == 201, response.text
    again = httpx.post(lock_url(gradebook, f"c-{unique}"), json=BODY, headers=token("principal"))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    problem = again.json()
    assert problem["type"].endswith("/term-already-locked") and problem["title"] == "Term already locked"
    assert "đã được khóa" in problem["detail"]
    engine = make_engine(service_databases["gradebook"])
    with engine.connect() as conn:
        types = (
            conn.execute(
                select(outbox.c.ce_type).where(outbox.c.body["subject"].astext.like(f"class/c-{unique}/%"))
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert sorted(types) == ["vn.hocba.audit.recorded.v1", "vn.hocba.gradebook.term.locked.v1"]


@pytest.mark.parametrize(
    ("headers", "status", "slug"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer not-a-jwt"}, 401, "unauthorized"),
        (None, 403, "forbidden"),  # a teacher
        ("other-school", 403, "forbidden"),
    ],
)
def test_only_the_schools_principal_may_lock(gradebook, unique, headers, status, slug):
    if headers is None:
        headers = token("teacher")
    elif headers == "other-school":
        headers = token("principal", school="s-2")
    response = httpx.post(lock_url(gradebook, f"c-{unique}"), json=BODY, headers=headers)
    assert response.status_code == status
    assert response.json()["type"].endswith(slug)
    assert response.json()["detail"]  # Vietnamese text for the user


def test_invalid_body_names_each_field_in_vietnamese(gradebook, unique):
    response = httpx.post(
        lock_url(gradebook, f"c-{unique}"),
        json={"grade": 13, "school_year": "2025"},
        headers=token("principal"),
    )
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields == {
        "class_name": "thiếu trường bắt buộc",
        "grade": "giá trị quá lớn",
        "school_year": "sai định dạng",
    }


def test_health_readiness_and_metrics(gradebook):
    assert httpx.get(f"{gradebook}/readyz").json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok"},
    }
    assert httpx.get(f"{gradebook}/healthz").status_code in (200, 503)  # heartbeat every 2 s
    assert "hocba_events_handled_total" in httpx.get(f"{gradebook}/metrics").text
