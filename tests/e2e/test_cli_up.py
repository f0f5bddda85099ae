"""`hocba up`, end to end: every service and relay in its own process, each logged in as itself; a whole school year
through it puts nothing on hocba.public that opens a child's record, and the sealed QR on a page the province holds
verifies offline; Ctrl-C stops them all cleanly.

One stack serves both checks (starting one costs some 15 CPU-seconds on this machine): the year is what a vendor
would see from the stack an operator starts."""

import json
import os
import signal
import subprocess
import sys
import unicodedata
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest
from kombu import Connection, Exchange, Queue

from cli.demo.pipeline import DemoSchool, Pipeline
from cli.registry import SERVICES, dev_token
from cli.stack import STACK_ENTRY
from sandbox.sample_school import build
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.settings import Settings
from tests.conftest import RUN
from tests.e2e.stack import isolated_stack_env, run_school_year, unpublished
from tests.helpers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
STUDENTS = 2
WRITER = Settings().audit_db_role


def test_up_runs_every_service_carries_a_year_that_leaks_nothing_public_and_ctrl_c_stops_them_all(
    monkeypatch, database_templates, unique, tmp_path
):
    with isolated_stack_env(monkeypatch, "up", database_templates) as env:
        amqp_uri, vhost = env["HOCBA_AMQP_URI"], env["HOCBA_AMQP_URI"].rsplit("/", 1)[1]
        public, internal = _bind_leak_check(amqp_uri, unique)
        log = tmp_path / "up.log"  # what `hocba up` and its children printed, shown when it fails
        with log.open("wb") as out:
            up = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "up"],
                cwd=ROOT,
                env=dict(os.environ),
                stdout=out,
                stderr=out,
            )
        ports = {name: int(env[f"HOCBA_PORT_{name.upper()}"]) for name in SERVICES}
        try:
            for name, port in ports.items():
                _wait_ready(up, log, name, port)
            children = _assert_each_process_is_itself(up, env, vhost)
            demo = DemoSchool(
                build(f"kin-{unique}", classes=1, students_per_class=STUDENTS, grade=5),
                "Trường Tiểu học Kín Đáo",
            )
            pipeline = Pipeline(dev_token, timeout=30)
            wait_for(
                pipeline.ready, timeout=120, interval=0.5, what="every service and the gateway to be ready"
            )
            run_school_year(pipeline, demo)
            wait_for(lambda: unpublished(env) == 0, timeout=60, interval=1, what="every outbox relayed")
            records = http_client.get(
                f"{pipeline.url['transcript']}/schools/{demo.school_id}/records",
                headers=pipeline.auth(demo.school_id, "van-thu", "staff"),
                timeout=30,
            ).json()["records"]
            printed_qr = _printed_qr_verdict(pipeline, demo, tmp_path)
            up.send_signal(signal.SIGINT)
            assert (
                up.wait(120) == 0
            )  # stop_stack gives the children 20 s, then kills; a loaded machine is slow
        finally:
            if up.poll() is None:
                up.kill()
        for pid in children:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
            )
        assert not any(ready(port) for port in ports.values())
        messages, controls = _drain(amqp_uri, public), [_raw(m.body) for m in _drain(amqp_uri, internal)]
    _assert_nothing_opens_a_record(demo, records, messages, controls)
    assert printed_qr.code == "VALID", printed_qr.message_vi
    assert printed_qr.summary is not None and printed_qr.summary.school_id == demo.school_id


def _printed_qr_verdict(pipeline: Pipeline, demo: DemoSchool, folder: Path):  # type: ignore[no-untyped-def]
    """The QR on the first page of a sealed record the province holds, read by zbar off the rendered page and checked
    against the province's trust list, as `hocba verify qr FILE.pdf` does."""
    from cli.qr import verdicts_for, write_trust_list
    from cli.registry import gateway_url

    school = {"Authorization": f"Bearer {pipeline.connect_gateway(demo)}"}
    [item] = http_client.get(
        f"{gateway_url()}/api/v1/records", params={"limit": 1}, headers=school, timeout=30
    ).json()["items"]
    pdf = folder / "sealed.pdf"
    pdf.write_bytes(
        http_client.get(
            f"{gateway_url()}/api/v1/records/{item['id']}/pdf", headers=school, timeout=30
        ).content
    )
    write_trust_list(folder / "trust-list.json", [], [])
    [verdict], _ = verdicts_for(str(pdf), str(folder / "trust-list.json"))
    return verdict


def _wait_ready(up: subprocess.Popen[bytes], log: Path, name: str, port: int) -> None:
    """Until ``name`` answers ready on ``port``; failing at once if `hocba up` stopped (a process of its stack
    exited), and either way with the end of what it printed."""
    try:
        wait_for(
            lambda: ready(port) or up.poll() is not None, timeout=90, interval=0.3, what=f"{name} on {port}"
        )
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}; `hocba up` printed:\n{_tail(log)}") from None
    if up.poll() is not None:
        raise AssertionError(f"`hocba up` exited with {up.returncode}; it printed:\n{_tail(log)}")


def _tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def ready(port: int) -> bool:
    try:
        return http_client.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _assert_each_process_is_itself(up: subprocess.Popen[bytes], env: dict[str, str], vhost: str) -> list[str]:
    """One service and one relay process each, every one logged in as its own broker user and the audit ones as
    the log's writer role; returns the child pids."""
    audit_db = env["HOCBA_DB_URL_AUDIT"].rsplit("/", 1)[1]
    wait_for(
        lambda: _logins(audit_db) == {("audit", WRITER), ("audit-relay", WRITER)},
        timeout=30,
        interval=0.3,
        what="the audit processes' logins",
    )
    # Every consumer is connected, each as its own user: none as the administrator the tests' URI names.
    consumers = {f"{RUN}_{s.service}" for e in SERVICES.values() for s in subscriptions_of(e.load())}
    wait_for(lambda: consumers <= connected_users(vhost), timeout=60, what=f"{sorted(consumers)} connected")
    assert connected_users(vhost) <= {f"{RUN}_{n}" for n in SERVICES} | {f"{RUN}_{n}-relay" for n in SERVICES}
    children = subprocess.run(["pgrep", "-P", str(up.pid)], capture_output=True, text=True).stdout.split()
    # This stack's own stand-ins (development token issuer, remote signer, gateway) are told apart by their
    # command lines; the test PKI's TSA/CRL server, at the one address its certificates name, is started unless
    # another stack on the machine already serves it.
    modules = [_module(pid) for pid in children]
    assert sorted(m for m in modules if m.startswith(STACK_ENTRY)) == sorted(
        f"{STACK_ENTRY} {kind} {name}" for name in SERVICES for kind in ("run", "relay")
    )
    stand_ins = sorted(m for m in modules if not m.startswith(STACK_ENTRY) and m != "sandbox.pki.animator")
    assert stand_ins == ["sandbox.gateway", "sandbox.issuer", "sandbox.remote_signer"]
    assert modules.count("sandbox.pki.animator") <= 1
    return children


def connected_users(vhost: str) -> set[str]:
    """Who is logged in to ``vhost`` right now (the management API)."""
    connections = http_client.get(
        f"http://127.0.0.1:15672/api/vhosts/{vhost}/connections", auth=("guest", "guest"), timeout=10
    ).json()
    return {c["user"] for c in connections}


def _module(pid: str) -> str:
    """``cli.processes run gradebook``, ``sandbox.issuer``…: what ``python -m`` runs in process ``pid``."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    module = args[args.index("-m") + 1]
    return " ".join(args[args.index("-m") + 1 : args.index("-m") + 4]) if module == STACK_ENTRY else module


def _logins(database: str) -> set[tuple[str, str]]:
    """(application, role) of every connection to ``database`` but this one."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        rows = conn.execute(
            "select application_name, usename from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            [database],
        )
        return {(str(a), str(u)) for a, u in rows}


# --- what a vendor receives ------------------------------------------------------------------------------------------


def _bind_leak_check(amqp_uri: str, unique: str) -> tuple[Queue, Queue]:
    """A queue bound to everything on hocba.public before the first event exists, and the control: one bound to
    the internal sealed event, which does carry the lookup codes, so the search can find them."""
    with Connection(amqp_uri) as conn:
        public = Queue(
            f"vendor-leakcheck{unique}-events",
            Exchange("hocba.public", type="topic", durable=True, passive=True),
            routing_key="#",
            durable=True,
        )
        internal = Queue(
            f"leakcheck{unique}-internal-sealed",
            Exchange("signing.events", type="topic", durable=True, passive=True),
            routing_key="transcript.sealed.v1",
            durable=True,
        )
        for queue in (public, internal):
            queue(conn.default_channel).declare()
    return public, internal


def _drain(amqp_uri: str, queue: Queue) -> list:
    """Every message in ``queue``, then the queue deleted."""
    messages = []
    with Connection(amqp_uri) as conn:
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True, accept=["json"])) is not None:
            messages.append(message)
        bound.delete()
    return messages


def _raw(body: bytes | str) -> bytes:
    """The body's bytes as the broker delivered them (kombu hands a UTF-8 body over already decoded)."""
    return body if isinstance(body, bytes) else body.encode()


def _needles(demo: DemoSchool, lookup_codes: list[str]) -> dict[str, bytes]:
    """Every form in which a student's key or identity could be written: names in UTF-8 (composed and decomposed,
    and JSON-escaped), personal IDs, birth dates ISO and as printed (dd/mm/yyyy, d/m/yyyy), lookup codes as printed
    and as a UUID."""
    found: dict[str, bytes] = {}
    for s in demo.school.students:
        name = s["full_name"]
        born = date.fromisoformat(s["birth_date"])
        for form in (
            name.encode(),
            unicodedata.normalize("NFD", name).encode(),
            json.dumps(name).strip('"').encode(),
            s["personal_id"].encode(),
            born.isoformat().encode(),
            born.strftime("%d/%m/%Y").encode(),
            f"{born.day}/{born.month}/{born.year}".encode(),
            born.strftime("%Y%m%d").encode(),
        ):
            found[f"{s['student_id']}: {form!r}"] = form
    for code in lookup_codes:
        for form in (code, code.upper(), str(uuid.UUID(code))):
            found[f"lookup code {form}"] = form.encode()
    return found


def _assert_nothing_opens_a_record(
    demo: DemoSchool, records: list[dict], messages: list, controls: list[bytes]
) -> None:
    lookup_codes = sorted({r["lookup_code"] for r in records})
    assert len(lookup_codes) == STUDENTS
    types = Counter(m.headers["ce-type"] for m in messages)
    assert types == {
        "vn.hocba.gradebook.term.locked.v1": 2,  # one class, two terms
        "vn.hocba.transcript.assembled.v1": STUDENTS,
        "vn.hocba.transcript.sealed.v1": STUDENTS,
        "vn.hocba.sync.record.changed.v1": STUDENTS,  # accepted (effective comes after the cutoff)
    }, types
    needles = _needles(demo, lookup_codes)
    # The raw bytes as the broker delivered them: body, headers and the other AMQP properties.
    leaks = sorted(
        {
            label
            for m in messages
            for raw in (
                _raw(m.body),
                json.dumps(m.headers, ensure_ascii=False).encode(),
                repr(m.properties).encode(),
            )
            for label, needle in needles.items()
            if needle in raw
        }
    )
    assert leaks == []
    assert all(any(code.encode() in body for body in controls) for code in lookup_codes), "the control failed"
    # Correlation still works: every sealed record is named by its opaque ids.
    sealed = [json.loads(m.body) for m in messages if m.headers["ce-type"] == "vn.hocba.transcript.sealed.v1"]
    assert {s["year_record_id"] for s in sealed} == {r["id"] for r in records}
