"""Helpers for the gradebook integration tests: HTTP calls as a person of the school, loading a sample school."""

from typing import Any

import httpx

from sandbox.issuer import mint_token
from sandbox.sample_school import SUBJECTS, homeroom_for, load_via_api, marks_for
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


def enter_year_and_lock(client: Client, school, class_id: str, principal: str = "hieu-truong") -> None:
    """Every teacher enters the class's marks and the homeroom teacher the homeroom record for both terms, through
    the API; then ``principal`` locks term I and term II."""
    for term in ("hk1", "hk2"):
        for code, _ in SUBJECTS:
            with client.as_(school.teacher_of(class_id, code), "teacher") as t:
                t.put(
                    f"/classes/{class_id}/subjects/{code}/terms/{term}/marks",
                    json={"entries": marks_for(school, class_id, code, term)},
                ).raise_for_status()
        with client.as_(school.homeroom_of(class_id), "teacher", "homeroom") as h:
            h.put(
                f"/classes/{class_id}/terms/{term}/homeroom",
                json={"entries": homeroom_for(school, class_id, term)},
            ).raise_for_status()
    with client.as_(principal, "principal") as p:
        for term in ("hk1", "hk2"):
            p.post(f"/classes/{class_id}/terms/{term}/lock").raise_for_status()


def lock_as_it_stands(principal: Any, school: Any, class_id: str, term: str = "hk2") -> Any:
    """Lock a term whose results are partly entered, the principal accepting every student's gaps with a reason
    (term II refuses gaps otherwise): for tests that need a locked term, not a complete year."""
    return principal.post(
        f"/classes/{class_id}/terms/{term}/lock",
        json={
            "incomplete_accepted": [s["student_id"] for s in school.students_of(class_id)],
            "reason": "Kiểm thử: khóa khi chưa nhập đủ",
        },
    )
