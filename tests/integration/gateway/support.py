"""Test support for the gateway: a real server process, school clients and real year-record documents."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import httpx

import sandbox.pki as pki
from sandbox.ports import free_ports
from services.runtime import http_client
from services.transcript.documents import pdf_form, xml_package
from services.transcript.domain.model import YearRecord
from tests import factories
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[3]
SECRET = "test-gateway-secret"
ADMIN = "test-gateway-admin"
# Printed on nobody's page: the tests assert it never reaches the portal.
PERSONAL_ID = "001204567890"
BIRTH_DATE = date(2012, 9, 5)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _die_with_parent() -> None:
    """A test run killed from outside (timeout, Ctrl-C twice) must not leave gateways listening behind it."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@dataclass
class GatewayProcess:
    """``python -m sandbox.gateway serve`` in its own process (no eventlet there), on a free port."""

    db_url: str
    verifier: str = "sandbox.gateway.verifiers:embedded_xml_only"
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    admin_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self, log_path: Path) -> GatewayProcess:
        self.port, self.admin_port = free_ports(2)
        # The province's extract signer, as `make setup` writes it for a development gateway.
        signer = log_path.parent / "province-extract.pem"
        signer.write_bytes(pki.signer_pem(pki.province_extract()))
        env = {
            **os.environ,
            "HOCBA_DB_URL_GATEWAY": self.db_url,
            "GATEWAY_SECRET": SECRET,
            "GATEWAY_ADMIN_TOKEN": ADMIN,
            "GATEWAY_LOG_LEVEL": "WARNING",
            "GATEWAY_EXTRACT_SIGNER": str(signer),
            **self.env,
        }
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox.gateway",
                "serve",
                "--port",
                str(self.port),
                "--admin-port",
                str(self.admin_port),
                "--verifier",
                self.verifier,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )

        def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, log_path.read_text()
            try:
                return http_client.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=60, what="the gateway to answer /healthz")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()

    def token(self, school_id: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "sandbox.gateway", "token", "--school", school_id],
            cwd=ROOT,
            env={**os.environ, "GATEWAY_SECRET": SECRET},
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def client(self, school_id: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {_token(school_id)}"} if school_id else {}
        base_url = kwargs.pop("base_url", self.url)
        return http_client.client(
            base_url=base_url, headers=headers, timeout=kwargs.pop("timeout", 15), **kwargs
        )

    def admin(self) -> httpx.Client:
        """The admin API, on its own port."""
        return http_client.client(
            base_url=self.admin_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=15
        )


@cache
def _token(school_id: str) -> str:
    # Same HMAC as the CLI (one test checks the CLI itself); computing it here saves a process per school.
    from sandbox.gateway.auth import mint

    return mint(SECRET.encode(), school_id)


def set_day(gateway: GatewayProcess, day: str) -> None:
    """Move the gateway's clock to ``day`` (ISO), as its admin API does for crossing cutoffs."""
    with gateway.admin() as admin:
        answer = admin.post("/_admin/clock", json={"today": day})
        answer.raise_for_status()
        assert answer.json()["today"] == day


def visitor(**kwargs: Any) -> httpx.Client:
    """A portal reader at an address of its own: loopback has the whole 127/8, and the portal counts attempts per
    address in its database, so a test that shares 127.0.0.1 with the others would share their count."""
    octets = secrets.token_bytes(3)
    address = f"127.{octets[0] % 254 + 1}.{octets[1]}.{octets[2] % 254 + 1}"
    return http_client.client(
        transport=httpx.HTTPTransport(local_address=address), timeout=kwargs.pop("timeout", 15), **kwargs
    )


def year_record(**changes: Any) -> YearRecord:
    """A lower-secondary year record (grade 8, TT22) with a personal ID in the XML, as schools send it: fresh ids
    each time, and none of the student's details the form prints but the birth date."""
    school_id = changes.get("school_id", "s1")
    return factories.year_record(
        school=(school_id, "THCS"),
        **{
            "lookup_code": uuid.uuid4().hex,
            "transcript_id": f"hb-{uuid.uuid4().hex[:8]}",
            "year_record_id": f"yr-{uuid.uuid4().hex[:8]}",
            "school_name": "Trường THCS Nguyễn Du",
            "student_id": f"st-{uuid.uuid4().hex[:6]}",
            "personal_id": PERSONAL_ID,
            "birth_date": BIRTH_DATE,
            "promotion": "Được lên lớp",
            "gender": None,
            "birth_place": None,
            "ethnicity": None,
            "register_number": None,
            "effective_date": None,
            **changes,
        },
    )


def primary_record(grade: int = 3, **changes: Any) -> YearRecord:
    return year_record(
        school_level="primary", grade=grade, class_name=f"{grade}A", circular="tt27", **changes
    )


@dataclass(frozen=True)
class Docs:
    record: YearRecord
    xml: bytes
    pdf: bytes

    def body(self, assessment: str = "regular", **extra: Any) -> dict[str, Any]:
        return {
            "assessment": assessment,
            "pdf": base64.b64encode(self.pdf).decode(),
            "xml": base64.b64encode(self.xml).decode(),
            **extra,
        }


def docs(record: YearRecord) -> Docs:
    xml = xml_package.build(record)
    return Docs(record, xml, pdf_form.render(xml))


def next_version(previous: Docs, **changes: Any) -> Docs:
    return docs(replace(previous.record, version=previous.record.version + 1, **changes))


def submit(
    client: httpx.Client, d: Docs, assessment: str = "regular", key: str | None = None
) -> httpx.Response:
    return client.post(
        "/api/v1/records", json=d.body(assessment), headers={"Idempotency-Key": key or uuid.uuid4().hex}
    )


def replace_record(
    client: httpx.Client, record_id: str, d: Docs, reason: str, key: str | None = None
) -> httpx.Response:
    return client.post(
        f"/api/v1/records/{record_id}/replace",
        json=d.body(reason=reason),
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )
