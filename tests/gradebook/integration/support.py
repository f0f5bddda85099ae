"""Helpers for the gradebook integration tests: HTTP calls as a person of the school, loading a sample school."""

import httpx

from sandbox.issuer import mint_token
from sandbox.sample_school import load_via_api
from services.runtime.settings import get_settings


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
