"""Sample schools driven through the whole pipeline over the services' HTTP APIs, as their users would.

The clerk imports the school, the teachers enter a year of marks, the principal locks both terms, every signer
signs through the simulated remote signing service, and the stages that follow (assembly, seal, report) run by
themselves. The demo, `hocba bench peak` and the chaos test all drive schools this way; each step is safe to
repeat, so a second demo run reuses what the first one finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cli.registry import SERVICES, gateway_admin_url, gateway_url, local_url, remote_signer_url
from cli.signer_client import sign_as
from sandbox.sample_school import SampleSchool, homeroom_for, load_via_api, marks_for
from services.runtime import http_client

Token = Callable[[str, list[str], str | None], str]

# The sample schools rehearse the end of school year 2025-2026 before its reporting cutoff (30 June 2026): the demo
# and `hocba bench peak` set the services' and the gateway's clocks to this day.
REHEARSAL_DAY = "2026-06-20"


@dataclass(frozen=True)
class DemoSchool:
    school: SampleSchool
    name: str

    @property
    def school_id(self) -> str:
        return self.school.school_id


@dataclass(frozen=True)
class StageCounts:
    """How far a school's year records have come, stage by stage."""

    students: int
    assembled: int
    signed: int  # every person has signed (waiting for the seal, or sealed)
    sealed: int
    accepted: int
    rejected: int

    @property
    def done(self) -> bool:
        return self.accepted + self.rejected >= self.students


class Pipeline:
    def __init__(self, token: Token, timeout: float = 60.0) -> None:
        self.token = token
        self.timeout = timeout
        self.url = {name: local_url(name) for name in SERVICES}

    def auth(self, school_id: str | None, user: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user, list(roles), school_id)}"}

    def ready(self) -> bool:
        """Every service answers /readyz and the gateway /healthz."""
        try:
            return all(
                http_client.get(f"{url}/readyz", timeout=2).status_code == 200 for url in self.url.values()
            ) and (http_client.get(f"{gateway_url()}/healthz", timeout=2).status_code == 200)
        except httpx.HTTPError:
            return False

    # -- the school's year in the gradebook ---------------------------------------------------------------------

    def year_locked(self, demo: DemoSchool) -> bool:
        """Whether an earlier run already locked the school's year (then nothing may be entered again)."""
        return self.term_locked(demo, demo.school.classes[0]["class_id"], "hk2")

    def term_locked(self, demo: DemoSchool, class_id: str, term: str) -> bool:
        """Whether the class's term is locked (False for a class the school has not imported)."""
        response = http_client.get(
            f"{self.url['gradebook']}/classes/{class_id}/sheet",
            params={"term": term},
            headers=self.auth(demo.school_id, demo.school.principal_id, "principal"),
            timeout=self.timeout,
        )
        return response.status_code == 200 and bool(response.json()["locked"])

    def lock_term(self, demo: DemoSchool, class_id: str, term: str) -> None:
        self._json(
            "POST",
            f"{self.url['gradebook']}/classes/{class_id}/terms/{term}/lock",
            self.auth(demo.school_id, demo.school.principal_id, "principal"),
        )

    def load(self, demo: DemoSchool) -> None:
        load_via_api(self.url["gradebook"], demo.school, self.token, name=demo.name)

    def marks_requests(self, demo: DemoSchool) -> list[tuple[str, str, str]]:
        """(class, term, subject) for every class sheet a teacher fills in, then ("", term, "homeroom")."""
        school = demo.school
        return [
            (c["class_id"], term, code)
            for term in ("hk1", "hk2")
            for c in school.classes
            for code in [s for s, _ in school.subjects] + ["homeroom"]
        ]

    def enter(self, demo: DemoSchool, class_id: str, term: str, code: str) -> None:
        school = demo.school
        if code == "homeroom":
            path = f"/classes/{class_id}/terms/{term}/homeroom"
            headers = self.auth(school.school_id, school.homeroom_of(class_id), "teacher", "homeroom")
            entries = homeroom_for(school, class_id, term)
        else:
            path = f"/classes/{class_id}/subjects/{code}/terms/{term}/marks"
            headers = self.auth(school.school_id, school.teacher_of(class_id, code), "teacher")
            entries = marks_for(school, class_id, code, term)
        response = http_client.put(
            f"{self.url['gradebook']}{path}", headers=headers, json={"entries": entries}, timeout=self.timeout
        )
        if response.status_code >= 400:
            # The status stays readable to callers that retry a service's restart (5xx) but not a refusal.
            raise httpx.HTTPStatusError(
                f"{path}: HTTP {response.status_code} {response.text[:300]}",
                request=response.request,
                response=response,
            )

    def enter_year(self, demo: DemoSchool) -> None:
        for class_id, term, code in self.marks_requests(demo):
            self.enter(demo, class_id, term, code)

    def lock_year(self, demo: DemoSchool) -> dict[str, list[str]]:
        locked = {}
        for term in ("hk1", "hk2"):
            response = http_client.post(
                f"{self.url['gradebook']}/schools/{demo.school_id}/terms/{term}/lock",
                headers=self.auth(demo.school_id, demo.school.principal_id, "principal"),
                timeout=self.timeout,
            )
            response.raise_for_status()
            locked[term] = response.json()["locked"]
        return locked

    # -- the province account, the seal and the signatures ----------------------------------------------------

    def connect_gateway(self, demo: DemoSchool) -> str:
        """The school's account at the province gateway, stored in sync (the token is what the province issues)."""
        from sandbox.gateway.auth import mint
        from sandbox.gateway.settings import get_gateway_settings

        school_token = mint(get_gateway_settings().secret.get_secret_value().encode(), demo.school_id)
        http_client.put(
            f"{self.url['sync']}/schools/{demo.school_id}/sync/credentials",
            json={"token": school_token},
            headers=self.auth(None, "ops", "operator"),
            timeout=self.timeout,
        ).raise_for_status()
        return school_token

    def provision_seal(self, demo: DemoSchool) -> None:
        """The school's seal key, generated inside the HSM once; the certificate comes from the test CA."""
        import sandbox.pki as pki
        from services.runtime.settings import get_settings
        from services.signing.adapters.hsm import SealKeys

        SealKeys(get_settings(), (pki.issuing_ca(),)).provision(
            demo.school_id,
            lambda public: pki.issue(
                public,
                common_name=demo.name,
                unit="Con dấu",
                organisation=demo.name,
                subject_id=demo.school_id,
            ),
        )

    def provision_qr(self, demo: DemoSchool) -> None:
        """The school's QR-summary key (P-256, in the HSM): before its records reach signing, which stamps the QR."""
        import sandbox.pki as pki
        from services.runtime.settings import get_settings
        from services.signing.adapters.hsm import SealKeys

        SealKeys(get_settings(), (pki.issuing_ca(),)).provision_qr(
            demo.school_id,
            lambda public: pki.issue_qr(public, school_id=demo.school_id, school_name=demo.name),
        )

    def _json(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        """A user's request that must succeed: its JSON answer (an HTTP error raises)."""
        response = http_client.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        response.raise_for_status()
        return response.json()

    def signing_status(self, demo: DemoSchool) -> dict[str, Any]:
        return dict(
            self._json(
                "GET",
                f"{self.url['signing']}/schools/{demo.school_id}/signing/status",
                self.auth(demo.school_id, "van-thu", "staff"),
            )
        )

    def sign_waiting(
        self,
        demo: DemoSchool,
        signed: Callable[[dict[str, Any], int], None] = lambda step, n: None,
        hold: frozenset[str] = frozenset(),
    ) -> int:
        """One round: every signer the school is waiting for signs all their pending steps but those of the year
        records in ``hold``. Returns signatures."""
        waiting = {w["signer_id"]: w for c in self.signing_status(demo)["classes"] for w in c["waiting_for"]}
        total = 0
        for signer_id, step in waiting.items():
            result = sign_as(
                self.url["signing"],
                remote_signer_url(),
                self.token(signer_id, ["teacher", "homeroom", "principal"], demo.school_id),
                signer_id,
                organisation=demo.name,
                skip=hold,
            )
            total += result.signed
            signed(step, result.signed)
        return total

    # -- where each record is -------------------------------------------------------------------------------------

    def sync_status(self, demo: DemoSchool) -> dict[str, Any]:
        return dict(
            self._json(
                "GET",
                f"{self.url['sync']}/schools/{demo.school_id}/sync/status",
                self.auth(demo.school_id, demo.school.principal_id, "principal"),
            )
        )

    def year_records(self, demo: DemoSchool) -> list[dict[str, Any]]:
        return list(
            self._json(
                "GET",
                f"{self.url['transcript']}/schools/{demo.school_id}/records",
                self.auth(demo.school_id, "van-thu", "staff"),
            )["records"]
        )

    def counts(self, demo: DemoSchool) -> StageCounts:
        assembled = len(self.year_records(demo))
        sync = self.sync_status(demo)
        classes = self.signing_status(demo)["classes"]
        sealed = sum(c.get("sealed", 0) for c in classes)
        return StageCounts(
            students=len(demo.school.students),
            assembled=assembled,
            signed=sealed + sum(c.get("sealing", 0) for c in classes),
            sealed=sealed,
            accepted=int(sync["accepted"]),
            rejected=int(sync["rejected"]),
        )

    # -- the demo's cases: an exemption, the summer, the transfers (issue 17) --------------------------------------

    def results(self, demo: DemoSchool, class_id: str, student_id: str) -> dict[str, Any]:
        """What the homeroom teacher sees of a student's year (results, averages and why)."""
        return dict(
            self._json(
                "GET",
                f"{self.url['gradebook']}/classes/{class_id}/students/{student_id}/results",
                self.auth(demo.school_id, demo.school.homeroom_of(class_id), "teacher", "homeroom"),
            )
        )

    def exempt(
        self, demo: DemoSchool, class_id: str, student_id: str, subject_code: str, reason: str
    ) -> bool:
        """The principal's decision (miễn học) for the whole year; False when an earlier run already took it."""
        principal = self.auth(demo.school_id, demo.school.principal_id, "principal")
        listed = self._json("GET", f"{self.url['gradebook']}/classes/{class_id}/exemptions", principal)
        if any(
            e["student_id"] == student_id and e["subject_code"] == subject_code and not e.get("revoked_at")
            for e in listed
        ):
            return False
        self._json(
            "POST",
            f"{self.url['gradebook']}/classes/{class_id}/students/{student_id}/exemptions",
            principal,
            json={"subject_code": subject_code, "period": "year", "reason": reason},
        )
        return True

    def summer(
        self,
        demo: DemoSchool,
        class_id: str,
        retests: dict[str, dict[str, dict[str, Any]]],
        traits: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        """After the year's lock: each subject teacher enters the re-test results (subject → student → entry:
        ``result``, and a primary pupil's ``test``), the homeroom teacher what summer training re-assessed (student →
        entry: ``conduct``, or a primary pupil's ``qualities``/``competencies``), the principal locks the summer."""
        school, gradebook = demo.school, self.url["gradebook"]
        for code, entries in retests.items():
            self._json(
                "PUT",
                f"{gradebook}/classes/{class_id}/subjects/{code}/summer/retest",
                self.auth(school.school_id, school.teacher_of(class_id, code), "teacher"),
                json={"entries": [{"student_id": s, **entry} for s, entry in entries.items()]},
            )
        if traits:
            self._json(
                "PUT",
                f"{gradebook}/classes/{class_id}/summer/conduct",
                self.auth(school.school_id, school.homeroom_of(class_id), "teacher", "homeroom"),
                json={"entries": [{"student_id": s, **entry} for s, entry in traits.items()]},
            )
        return dict(
            self._json(
                "POST",
                f"{gradebook}/classes/{class_id}/summer/lock",
                self.auth(school.school_id, school.principal_id, "principal"),
            )
        )

    def request_transfer(self, receiving: DemoSchool, from_school: str, lookup_code: str) -> dict[str, Any]:
        """The receiving school's clerk asks for the học bạ the family brought, by the code printed on it."""
        return dict(
            self._json(
                "POST",
                f"{self.url['sync']}/schools/{receiving.school_id}/sync/transfer-requests",
                self.auth(receiving.school_id, "van-thu", "staff"),
                json={"from_school": from_school, "lookup_code": lookup_code},
            )
        )

    def approve_transfer(self, sending: DemoSchool, request_id: str) -> dict[str, Any]:
        """The sending school's principal hands the học bạ over (at the province, then to the receiving school)."""
        return dict(
            self._json(
                "POST",
                f"{self.url['sync']}/schools/{sending.school_id}/sync/transfer-requests/{request_id}/approve",
                self.auth(sending.school_id, sending.school.principal_id, "principal"),
            )
        )

    def transfer_requests(self, demo: DemoSchool) -> dict[str, list[dict[str, Any]]]:
        return dict(
            self._json(
                "GET",
                f"{self.url['sync']}/schools/{demo.school_id}/sync/transfer-requests",
                self.auth(demo.school_id, demo.school.principal_id, "principal"),
            )
        )

    def at_province(self, demo: DemoSchool, **params: str) -> list[dict[str, Any]]:
        """The school's records as the province holds them (its own, and those handed over to it)."""
        school_token = self.connect_gateway(demo)
        return list(
            self._json(
                "GET",
                f"{gateway_url()}/api/v1/records",
                {"Authorization": f"Bearer {school_token}"},
                params={"limit": 500, **params},
            )["items"]
        )

    def set_province_day(self, day: str) -> str:
        """Move the reference gateway's clock, as its admin API allows (tests/integration/gateway/support.py
        set_day): the province's day when the summer's records arrive."""
        from sandbox.gateway.settings import get_gateway_settings

        admin = {"Authorization": f"Bearer {get_gateway_settings().admin_token.get_secret_value()}"}
        return str(
            self._json("POST", f"{gateway_admin_url()}/_admin/clock", admin, json={"today": day})["today"]
        )
