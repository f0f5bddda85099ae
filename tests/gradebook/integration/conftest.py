"""A running gradebook with a sample school loaded through the API, as the school's staff would."""

import uuid

import httpx
import pytest

from sandbox.sample_school import build, load_via_api
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


def load_school(client: Client, school) -> None:
    load_via_api(
        client.base,
        school,
        lambda user, roles, school_id: mint_token(
            get_settings(), user_id=user, roles=roles, school_id=school_id
        ),
    )


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
