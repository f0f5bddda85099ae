"""A running gradebook with a sample school loaded through the API, as the school's staff would."""

import csv
import io
import uuid

import httpx
import pytest

from sandbox.sample_school import build
from services.gradebook.service import GradebookService
from services.runtime.auth import mint_token
from services.runtime.settings import get_settings
from tests.helpers import running


class Client:
    """HTTP calls as a given person of the school."""

    def __init__(self, base: str, school_id: str) -> None:
        self.base, self.school_id = base, school_id

    def headers(self, user: str, *roles: str, school: str | None = None) -> dict[str, str]:
        token = mint_token(get_settings(), user_id=user, roles=roles, school_id=school or self.school_id)
        return {"Authorization": f"Bearer {token}"}

    def as_(self, user: str, *roles: str, school: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers(user, *roles, school=school), timeout=30)


def to_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def load_school(client: Client, school) -> None:
    with client.as_("sys-op", "operator", school=None) as op:
        r = op.put(
            f"/schools/{school.school_id}",
            json={
                "name": "Trường THCS Nguyễn Du",
                "level": "lower_secondary",
                "province": "Hà Nội",
                "current_year": school.year,
            },
        )
        assert r.status_code == 200, r.text
    with client.as_("van-thu", "staff") as staff:
        for kind, rows in (
            ("teachers", school.teachers),
            ("classes", school.classes),
            ("students", school.students),
            ("assignments", school.assignments),
        ):
            r = staff.post(
                f"/schools/{school.school_id}/imports/{kind}",
                content=to_csv(rows),
                headers={"Content-Type": "text/csv"},
            )
            assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def gradebook(amqp_uri, service_databases):
    with running(GradebookService, amqp_uri) as container:
        yield container.http_url


@pytest.fixture(scope="module")
def school(gradebook):
    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=2, students_per_class=45)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    return sample, client
