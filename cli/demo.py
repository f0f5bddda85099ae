"""`hocba demo`: run what exists of the pipeline on local defaults and show each hop."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from kombu import Connection, Exchange, Queue
from rich.console import Console
from rich.progress import track

from cli.demo_signing import sign_and_seal, verify_all
from cli.demo_sync import connect, report
from cli.registry import SERVICES

SCHOOL_NAME = "Trường THCS Nguyễn Du"


def _wait(predicate: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/readyz", timeout=2).status_code == 200


def run_demo(
    spawn: Callable[[list[str]], list[Any]], stop: Callable[[list[Any]], None], console: Console
) -> int:
    from sandbox.sample_school import SUBJECTS, build, homeroom_for, load_via_api, marks_for
    from services.runtime.auth import mint_token
    from services.runtime.settings import get_settings

    settings = get_settings()
    console.rule("Học bạ số — demo")
    console.print(
        "gradebook → transcript (XML + PDF per student) → signing (every teacher, the principal, the school seal)\n"
        "→ sync (the province gateway and its lookup portal) and audit, over outbox → relay → RabbitMQ, with public\n"
        "events for vendors. The clock is set to 20/06/2026, before the 2025-2026 reporting cutoff."
    )

    def token(user: str, roles: list[str], school_id: str | None) -> str:
        return mint_token(settings, user_id=user, roles=roles, school_id=school_id)

    # A vendor's view: a queue on the public exchange, bound before anything is published.
    vendor = Queue(
        f"demo-vendor-{uuid.uuid4().hex[:6]}",
        Exchange(settings.public_exchange, type="topic", durable=True),
        routing_key="vn.hocba.#",
        auto_delete=True,
    )
    with Connection(settings.amqp_uri) as conn:
        vendor.declare(channel=conn.default_channel)
    procs = spawn(list(SERVICES))
    try:
        gradebook = f"http://127.0.0.1:{SERVICES['gradebook'].port}"
        audit = f"http://127.0.0.1:{SERVICES['audit'].port}"
        for url in (gradebook, audit):
            _wait(partial(_ready, url), 60, f"{url}/readyz")
        console.print(f"services ready: gradebook {gradebook}, audit {audit}")

        school = build(f"demo-thcs-{uuid.uuid4().hex[:6]}", classes=2, students_per_class=45)
        load_via_api(gradebook, school, token, name=SCHOOL_NAME)
        connect(school.school_id, token, _wait)
        console.print(
            f"1. the clerk imported {len(school.teachers)} teachers, {len(school.classes)} classes, "
            f"{len(school.students)} students and {len(school.assignments)} assignments (CSV)"
        )

        def auth(user: str, *roles: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token(user, list(roles), school.school_id)}"}

        with httpx.Client(base_url=gradebook, timeout=60) as http:
            jobs = [
                (c["class_id"], term, code)
                for term in ("hk1", "hk2")
                for c in school.classes
                for code, _ in SUBJECTS
            ]
            for class_id, term, code in track(
                jobs, description="2. teachers enter the year's marks", console=console
            ):
                http.put(
                    f"/classes/{class_id}/subjects/{code}/terms/{term}/marks",
                    headers=auth(school.teacher_of(class_id, code), "teacher"),
                    json={"entries": marks_for(school, class_id, code, term)},
                ).raise_for_status()
            for class_id in (c["class_id"] for c in school.classes):
                for term in ("hk1", "hk2"):
                    http.put(
                        f"/classes/{class_id}/terms/{term}/homeroom",
                        headers=auth(school.homeroom_of(class_id), "teacher", "homeroom"),
                        json={"entries": homeroom_for(school, class_id, term)},
                    ).raise_for_status()
            console.print("3. homeroom teachers entered conduct, absences and comments for both terms")
            first_class = school.classes[0]["class_id"]
            pupil = school.students_of(first_class)[0]
            checked = http.get(
                f"/classes/{first_class}/students/{pupil['student_id']}/results",
                headers=auth(school.homeroom_of(first_class), "teacher", "homeroom"),
            ).json()
            year = checked["year"]
            console.print(
                f"   the homeroom teacher checks {pupil['full_name']}: học tập {year.get('learning_result')}, "
                f"rèn luyện {year.get('conduct')} → {year.get('promotion')}"
            )
            console.print(f"   why: {checked['explanations']['learning_result.year']}")
            principal = auth("hieu-truong", "principal")
            for term in ("hk1", "hk2"):
                locked = http.post(f"/schools/{school.school_id}/terms/{term}/lock", headers=principal)
                locked.raise_for_status()
                console.print(
                    f"4. the principal locked {term} for the whole school: {locked.json()['locked']}"
                )
            first = school.classes[0]["class_id"]
            student = school.students_of(first)[0]
            refused = http.put(
                f"/classes/{first}/subjects/toan/terms/hk2/marks",
                headers=auth(school.teacher_of(first, "toan"), "teacher"),
                json={"entries": [{"student_id": student["student_id"], "final": 10}]},
            )
            console.print(
                f"5. a late change is refused: HTTP {refused.status_code} — {refused.json()['detail']}"
            )
            sheet = http.get(f"/classes/{first}/sheet", headers=principal, params={"term": "hk2"}).json()

        def audit_total() -> int:
            return int(
                httpx.get(
                    f"{audit}/schools/{school.school_id}/audit",
                    headers=auth("hieu-truong", "principal"),
                    params={"limit": 1},
                    timeout=10,
                ).json()["total"]
            )

        # Every score, homeroom record, import and lock: the audit consumer catches up through the relay.
        expected = 2 * len(school.students) * (len(SUBJECTS) + 1) + 4 + 2 * len(school.classes)
        total = _wait(lambda: (n := audit_total()) >= expected and n, 120, f"{expected} audit entries")
        console.print(
            f"6. the audit log holds {total} entries for the school: every score, record, import and lock"
        )
        transcript = f"http://127.0.0.1:{SERVICES['transcript'].port}"
        staff = auth("van-thu", "staff")

        def assembled() -> list[dict[str, Any]]:
            rows = httpx.get(
                f"{transcript}/schools/{school.school_id}/records", headers=staff, timeout=10
            ).json()
            records = rows["records"]
            return records if len(records) >= len(school.students) else []

        records = _wait(assembled, 180, "every student's year record")
        out = Path("demo-out") / school.school_id
        out.mkdir(parents=True, exist_ok=True)
        example = records[0]
        console.print(
            f"7. transcript assembled {len(records)} year records (XML + PDF/A-3, signature plan of "
            f"{len(example['signature_plan'])} steps each)"
        )
        console.print(
            f"   e.g. lookup code {example['lookup_code']}, QR → {settings.lookup_base_url}/{example['lookup_code']}"
        )
        sealed = sign_and_seal(school.school_id, SCHOOL_NAME, len(records), token, console, out, _wait)
        verdicts = verify_all(sealed)
        passed = sum(1 for v in verdicts if v["passed"])
        console.print(f"11. sealed PDF + signed XML of {len(sealed)} students → {out}/; hocba verify:")
        for verdict in verdicts[:3]:
            console.print(f"    {verdict['file']}: {verdict['indication']} — {verdict['summary']}")
        console.print(f"    … {passed}/{len(verdicts)} TOTAL_PASSED")
        report(school.school_id, len(records), token, console, _wait)
        seen: dict[str, int] = {}
        with Connection(settings.amqp_uri) as conn:
            while (message := conn.default_channel.basic_get(vendor.name, no_ack=True)) is not None:
                seen[message.headers["ce-type"]] = seen.get(message.headers["ce-type"], 0) + 1
        console.print(f"15. vendors received on {settings.public_exchange}: {seen or 'nothing yet'}")
        # The chain head timestamped by the TSA now (the audit service does it every few minutes), then verified.
        subprocess.run(
            [sys.executable, "-m", "cli.main", "audit", "checkpoint", "--school", school.school_id],
            capture_output=True,
            check=False,
        )
        verified = subprocess.run(
            [sys.executable, "-m", "cli.main", "audit", "verify", "--school", school.school_id],
            capture_output=True,
            text=True,
        )
        console.print(
            f"16. audit checkpoint (RFC 3161) + hocba audit verify --school {school.school_id}: "
            f"{'intact' if verified.returncode == 0 else 'BROKEN'} (exit {verified.returncode})"
        )
        console.print(
            f"Class {sheet['class']['name']} sheet hash {sheet['content_hash'][:16]}…; look further: "
            f"{gradebook}/openapi.json, {gradebook}/metrics, {audit}/schools/{school.school_id}/audit "
            f"(token: `hocba token --role principal --school {school.school_id}`)"
        )
        console.rule("demo finished")
        return 0
    finally:
        stop(procs)
