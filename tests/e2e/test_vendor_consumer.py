"""What a vendor receives on hocba.public: the docs' example consumer works, and a whole school year leaks nothing."""

import json
import threading
import unicodedata
import uuid
from collections import Counter
from datetime import date

import httpx
import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cli.demo.pipeline import DemoSchool
from cli.main import app
from cli.registry import SERVICES
from docs.vendor_consumer import subscribe
from services.gradebook.store.tables import outbox
from services.runtime.db import make_engine, transaction
from services.runtime.outbox import Outbox
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from tests.factories import term_locked
from tests.helpers import queue_depth, wait_for

pytestmark = pytest.mark.integration


def _exists(amqp_uri: str, queue: str) -> bool:
    try:
        queue_depth(amqp_uri, queue)
        return True
    except Exception:  # noqa: BLE001 - not declared yet
        return False


def test_vendor_example_consumer_receives_a_cloudevent_from_the_platform(amqp_uri, service_databases, unique):
    assert CliRunner().invoke(app, ["broker", "setup"]).exit_code == 0  # the platform's exchanges exist
    engine = make_engine(service_databases["gradebook"])
    relay = OutboxRelay("gradebook", engine, outbox, ConfirmingPublisher(amqp_uri))
    while relay.relay_once():
        pass  # earlier tests' unpublished locks go out before the vendor binds: it must see only this one
    received: list[tuple[dict, dict]] = []
    # Bind first (the vendor's durable queue), as the docs tell a vendor to do once.
    ready = threading.Event()
    result: dict[str, int] = {}

    def vendor() -> None:
        ready.set()
        result["n"] = subscribe(
            amqp_uri,
            f"acme{unique}",
            lambda a, d: received.append((a, d)),
            types="vn.hocba.gradebook.term.locked.v1",
            limit=1,
        )

    thread = threading.Thread(target=vendor)
    thread.start()
    ready.wait()
    wait_for(lambda: _exists(amqp_uri, f"vendor-acme{unique}-events"), what="the vendor's queue")
    event = term_locked(school_id="s-vendor", class_id=f"c-{unique}", class_name="6A", grade=6, term="hk1")
    with transaction(sessionmaker(engine)) as session:
        envelope = Outbox("gradebook", outbox).add(session, event, subject=f"class/c-{unique}")
    while relay.relay_once():
        pass
    thread.join(30)
    engine.dispose()
    assert result == {"n": 1}
    attributes, data = received[0]
    assert attributes["id"] == str(envelope.id) and attributes["type"] == "vn.hocba.gradebook.term.locked.v1"
    assert attributes["specversion"] == "1.0" and attributes["source"] == "/hocba/gradebook"
    assert data["class_id"] == f"c-{unique}" and "snapshot" not in data


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


@pytest.mark.timeout(600)
def test_a_whole_school_year_puts_no_lookup_code_personal_id_name_or_birth_date_on_hocba_public(
    monkeypatch, tmp_path, unique
):
    from cli.demo.pipeline import DemoSchool, Pipeline
    from cli.registry import dev_token
    from cli.stack import spawn_stack, stop_stack
    from sandbox.sample_school import build
    from tests.e2e.stack import isolated_stack_env, run_school_year, unpublished

    students = 2
    with isolated_stack_env(monkeypatch, "public") as env:
        amqp_uri = env["HOCBA_AMQP_URI"]
        # A queue of its own, bound to everything before the first event exists.
        with Connection(amqp_uri) as conn:
            bound = Queue(
                f"vendor-leakcheck{unique}-events",
                Exchange("hocba.public", type="topic", durable=True, passive=True),
                routing_key="#",
                durable=True,
            )(conn.default_channel)
            bound.declare()
            # The control: the internal sealed event does carry the lookup codes, so the search below can find them.
            internal = Queue(
                f"leakcheck{unique}-internal-sealed",
                Exchange("signing.events", type="topic", durable=True, passive=True),
                routing_key="transcript.sealed.v1",
                durable=True,
            )(conn.default_channel)
            internal.declare()
        procs = spawn_stack(list(SERVICES), log_dir=tmp_path / "logs")
        try:
            pipeline = Pipeline(dev_token, timeout=30)
            wait_for(
                pipeline.ready, timeout=180, interval=0.5, what="every service and the gateway to be ready"
            )
            demo = DemoSchool(
                build(f"kin-{unique}", classes=1, students_per_class=students, grade=5),
                "Trường Tiểu học Kín Đáo",
            )
            run_school_year(pipeline, demo)
            wait_for(lambda: unpublished(env) == 0, timeout=60, interval=1, what="every outbox relayed")
            records = httpx.get(
                f"{pipeline.url['transcript']}/schools/{demo.school_id}/records",
                headers=pipeline.auth(demo.school_id, "van-thu", "staff"),
                timeout=30,
            ).json()["records"]
        finally:
            stop_stack(procs)
        lookup_codes = sorted({r["lookup_code"] for r in records})
        assert len(lookup_codes) == students
        messages, controls = [], []
        with Connection(amqp_uri) as conn:
            queue = bound(conn.default_channel)
            while (message := queue.get(no_ack=True, accept=["json"])) is not None:
                messages.append(message)
            queue.delete()
            control = internal(conn.default_channel)
            while (message := control.get(no_ack=True, accept=["json"])) is not None:
                controls.append(_raw(message.body))
            control.delete()
    types = Counter(m.headers["ce-type"] for m in messages)
    assert types == {
        "vn.hocba.gradebook.term.locked.v1": 2,  # one class, two terms
        "vn.hocba.transcript.assembled.v1": students,
        "vn.hocba.transcript.sealed.v1": students,
        "vn.hocba.sync.record.changed.v1": students,  # accepted (effective comes after the cutoff)
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
