"""`hocba demo`: a primary and a lower-secondary school through the whole pipeline, on local defaults, and issue 17's
cases (cli/demo/cases.py): in the lower-secondary school a re-test, summer conduct training, an exemption, a year-end
and a mid-year transfer from a third school; in the primary school a grade-4 supplementary assessment; each with its
path to the province.

Each step is what a user does over the services' HTTP APIs (cli/demo/pipeline.py); everything after the principal's lock
runs by itself. A second run reuses what the first finished: a locked year is not entered again, sealed records are
not signed again, accepted records are not sent again; it collects, verifies and reports the same files.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from kombu import Connection, Exchange, Queue
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from cli.demo import cases as demo_cases
from cli.demo.files import collect, verify_all
from cli.demo.pipeline import REHEARSAL_DAY, DemoSchool, Pipeline, StageCounts
from cli.registry import SERVICES, dev_token, gateway_url
from sandbox.sample_school import MIDYEAR, TRANSFERRED
from services.runtime import http_client


def demo_env() -> dict[str, str]:
    return {
        "HOCBA_REPORTING_DAY": REHEARSAL_DAY,
        "GATEWAY_TODAY": REHEARSAL_DAY,
        "HOCBA_LOOKUP_BASE_URL": f"{gateway_url()}/hocba",
    }


# (school id, name, grade, classes, students per class): fixed ids, so that a second run finds the first one's work.
SCHOOLS = (
    ("demo-th-kimdong", "Trường Tiểu học Kim Đồng", 5, 2, 20),
    ("demo-thcs-nguyendu", "Trường THCS Nguyễn Du", 8, 2, 25),
)
STAGES = (
    ("assembled", "assembled (XML + PDF/A-3)"),
    ("signed", "signed by every teacher + principal"),
    ("sealed", "sealed by the school (HSM)"),
    ("accepted", "accepted by the province"),
)


def _wait(predicate: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {seconds:.0f}s waiting for {what}")


def _schools() -> list[DemoSchool]:
    from sandbox.sample_school import build

    return [
        DemoSchool(build(school_id, classes=classes, students_per_class=size, grade=grade), name)
        for school_id, name, grade, classes, size in SCHOOLS
    ]


def run_demo(
    spawn: Callable[..., list[Any]],
    stop: Callable[[list[Any]], None],
    console: Console,
    out: Path,
) -> int:
    from services.runtime.settings import get_settings

    settings = get_settings()
    console.rule("Học bạ số — demo")
    console.print(
        "gradebook → transcript (XML + PDF per student) → signing (every teacher, the principal, the school seal)\n"
        "→ sync (the province gateway and its lookup portal) and audit, over outbox → relay → RabbitMQ, with public\n"
        f"events for vendors. The clock is set to {REHEARSAL_DAY}, before the 2025-2026 reporting cutoff."
    )
    # A vendor's view: a queue on the public exchange, bound before anything is published. Auto-delete, so classic:
    # a quorum queue cannot be, and this one lives only as long as the demo.
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
        pipeline = Pipeline(dev_token)
        _wait(pipeline.ready, 120, "every service and the reference gateway")
        console.print("services ready: " + ", ".join(f"{n} {u}" for n, u in pipeline.url.items()))
        schools = _schools()
        sender = demo_cases.sender_school()
        cases = demo_cases.add_cases(schools[1], sender, schools[0])
        if not demo_cases.sender_reported(pipeline, sender):
            _previous_year(spawn, stop, procs, pipeline, sender, console)
        console.print(escape(demo_cases.sender_term_one(pipeline, cases)))
        for demo in schools:
            pipeline.provision_qr(demo)
            _school_year(pipeline, demo, console, cases if demo is cases.receiving else None)
        _explain(pipeline, cases.receiving, console)
        for demo in schools:
            pipeline.provision_seal(demo)
            pipeline.connect_gateway(demo)
        console.print(
            "5. each school's seal key is in the HSM (SoftHSM2; generated there once, certificate from the test CA); "
            "sync holds each school's account at the province gateway"
        )
        started = time.monotonic()
        signatures = _follow(pipeline, schools, console)
        console.print(
            f"6. {signatures} personal signatures (PAdES B-T + XAdES) through the remote signing service; everything "
            f"sealed and reported in {time.monotonic() - started:.0f} s"
            if signatures
            else "6. nothing left to sign, seal or report: an earlier run finished it"
        )
        failed = _summer(pipeline, cases, console)
        failed_files, verdicts = _files(pipeline, [*schools, sender], out, console)
        failed += failed_files
        failed += _qr(schools, out, console)
        _lookups(pipeline, schools, console)
        seen: dict[str, int] = {}
        with Connection(settings.amqp_uri) as conn:
            while (message := conn.default_channel.basic_get(vendor.name, no_ack=True)) is not None:
                seen[message.headers["ce-type"]] = seen.get(message.headers["ce-type"], 0) + 1
        console.print(
            f"9. vendors received on {settings.public_exchange}: "
            f"{seen or 'nothing new (an earlier run published it all)'}"
        )
        failed += _audit([*schools, sender], console)
        failed += _cases(pipeline, cases, verdicts, console)
        audit = pipeline.url["audit"]
        console.print(
            f"Look further: {pipeline.url['gradebook']}/openapi.json, {audit}/metrics, "
            f"{audit}/schools/{schools[0].school_id}/audit "
            f"(token: `hocba token --role principal --school {schools[0].school_id}`)"
        )
        console.rule("demo finished" if not failed else "demo finished with failures")
        return 1 if failed else 0
    finally:
        console.print("stopping the services, relays and stand-ins this demo started…")
        stop(procs)


def _previous_year(
    spawn: Callable[..., list[Any]],
    stop: Callable[[list[Any]], None],
    procs: list[Any],
    pipeline: Pipeline,
    sender: DemoSchool,
    console: Console,
) -> None:
    """The sending school's 2024-2025 year, on a stack whose day is 20 June 2025 (sync reports a year only before
    its cutoff); then the stack again at the rehearsal day. Only when an earlier run has not done it. ``procs`` is
    changed in place, so the caller stops whichever stack runs when it ends."""
    day = demo_cases.PREVIOUS_DAY
    console.print(
        f"0. {sender.name} (grade {sender.school.grade}, {sender.school.year}, {len(sender.school.students)} "
        f"students), the transferred student's first school, reports its year a year earlier: the stack runs at {day}"
    )
    _restart(spawn, stop, procs, pipeline, {"HOCBA_REPORTING_DAY": day, "GATEWAY_TODAY": day}, day)
    pipeline.provision_qr(sender)
    _school_year(pipeline, sender, console)
    pipeline.provision_seal(sender)
    pipeline.connect_gateway(sender)
    signatures = _follow(pipeline, [sender], console)
    console.print(f"   {signatures} personal signatures; every record sealed and accepted by the province")
    _restart(spawn, stop, procs, pipeline, {}, REHEARSAL_DAY)
    console.print(f"   the stack again at {REHEARSAL_DAY}")


def _restart(
    spawn: Callable[..., list[Any]],
    stop: Callable[[list[Any]], None],
    procs: list[Any],
    pipeline: Pipeline,
    env: dict[str, str],
    day: str,
) -> None:
    """Stop the stack and start it again with ``env``. A process that starts while the broker still closes the
    previous ones' connections may time out connecting and never become ready (seen once, with a test suite sharing
    the machine): then once more, after a pause."""
    for attempt in (1, 2):
        stop(procs)
        time.sleep(3 * attempt)
        procs[:] = spawn(list(SERVICES), env=env)
        try:
            _wait(pipeline.ready, 120, f"every service at {day}")
            return
        except TimeoutError:
            if attempt == 2:
                raise


def _school_year(
    pipeline: Pipeline, demo: DemoSchool, console: Console, cases: demo_cases.Cases | None = None
) -> None:
    school = demo.school
    grades = ", ".join(str(g) for g in sorted({c["grade"] for c in school.classes}, reverse=True))
    title = f"{demo.name} ({school.level.replace('_', ' ')}, grade {grades}, {school.year})"
    if pipeline.year_locked(demo):
        console.print(f"1–3. {title}: the year is already locked (an earlier run); nothing is entered again")
        return
    pipeline.load(demo)
    console.print(
        f"1. {title}: the clerk imported {len(school.teachers)} teachers, {len(school.classes)} classes, "
        f"{len(school.students)} students and {len(school.assignments)} assignments (CSV)"
    )
    if cases is not None:
        console.print(f"   {escape(demo_cases.decide_exemption(pipeline, cases))}")
        for case in (TRANSFERRED, MIDYEAR):
            console.print(f"   {escape(demo_cases.hand_over(pipeline, cases, case))}")
    requests = pipeline.marks_requests(demo)
    with Progress(
        TextColumn("   {task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("2. teachers enter both terms (marks, then homeroom)", total=len(requests))
        for class_id, term, code in requests:
            pipeline.enter(demo, class_id, term, code)
            progress.advance(task)
    locked = pipeline.lock_year(demo)
    # Text from the services is escaped: rich would take a "[...]" in it for markup and drop it.
    console.print(
        f"3. the principal locked hk1 and hk2 for the whole school: {escape(', '.join(locked['hk2']))}"
    )


def _explain(pipeline: Pipeline, demo: DemoSchool, console: Console) -> None:
    """Why a student got their result, and that the locked year refuses a late change."""
    school = demo.school
    first = school.classes[0]["class_id"]
    pupil = school.students_of(first)[0]
    homeroom = pipeline.auth(school.school_id, school.homeroom_of(first), "teacher", "homeroom")
    checked = http_client.get(
        f"{pipeline.url['gradebook']}/classes/{first}/students/{pupil['student_id']}/results",
        headers=homeroom,
        timeout=30,
    ).json()
    year = checked["year"]
    console.print(
        f"4. the homeroom teacher checks {pupil['full_name']}: học tập {year.get('learning_result')}, "
        f"rèn luyện {year.get('conduct')} → {year.get('promotion')}"
    )
    console.print(f"   why: {escape(str(checked['explanations'].get('learning_result.year')))}")
    refused = http_client.put(
        f"{pipeline.url['gradebook']}/classes/{first}/subjects/toan/terms/hk2/marks",
        headers=pipeline.auth(school.school_id, school.teacher_of(first, "toan"), "teacher"),
        json={"entries": [{"student_id": pupil["student_id"], "final": 10}]},
        timeout=30,
    )
    console.print(
        f"   a late change is refused: HTTP {refused.status_code} — {escape(str(refused.json()['detail']))}"
    )


def _follow(pipeline: Pipeline, schools: list[DemoSchool], console: Console) -> int:
    """Every waiting signer signs, round after round, while the display follows each stage until all is accepted."""
    signatures = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[tuple[str, str], TaskID] = {
            (demo.school_id, stage): progress.add_task(
                f"{demo.school_id:<20} {label}", total=len(demo.school.students)
            )
            for demo in schools
            for stage, label in STAGES
        }

        def show() -> bool:
            done = True
            for demo in schools:
                counts: StageCounts = pipeline.counts(demo)
                for stage, _ in STAGES:
                    progress.update(tasks[demo.school_id, stage], completed=getattr(counts, stage))
                done = done and counts.done
            return done

        deadline = time.monotonic() + 1800
        while not show():
            if time.monotonic() > deadline:
                raise TimeoutError("the pipeline did not finish within 30 minutes; see var/demo-logs/")
            for demo in schools:
                signatures += pipeline.sign_waiting(demo)
            time.sleep(1)
    return signatures


def _summer(pipeline: Pipeline, cases: demo_cases.Cases, console: Console) -> int:
    """After the summer's re-test and training: the records decided again go to the province on the supplementary
    path, the province's clock at a day in August (its admin API; sync's own stays at the rehearsal day, where its
    only check, "not after the path's cutoff", holds as it does on 10 August)."""
    day = pipeline.set_province_day(demo_cases.SUMMER_DAY)
    console.print(f"6b. the summer: the province's clock is now {day} (before the 15 August cutoff)")
    for line in demo_cases.summer(pipeline, cases):
        console.print(f"    {escape(line)}")
    signatures = demo_cases.follow_summer(pipeline, cases)
    console.print(
        f"    {signatures} personal signatures on the records decided again; sealed and reported on the "
        "supplementary path"
        if signatures
        else "    nothing left to sign: an earlier run reported the summer's records"
    )
    return 0


def _cases(
    pipeline: Pipeline, cases: demo_cases.Cases, verdicts: dict[str, dict[str, Any]], console: Console
) -> int:
    lines, failed = demo_cases.report(pipeline, cases, verdicts)
    console.print("11. each case's student and path to the province:")
    for line in lines:
        console.print(f"   {escape(line)}")
    return failed


def _files(
    pipeline: Pipeline, schools: list[DemoSchool], out: Path, console: Console
) -> tuple[int, dict[str, dict[str, Any]]]:
    failed, every = 0, {}
    for demo in schools:
        written = collect(pipeline, demo, out)
        verdicts = verify_all(written)
        every.update({Path(v["file"]).name: v for v in verdicts})
        passed = sum(1 for v in verdicts if v["passed"])
        failed += len(verdicts) - passed + (len(demo.school.students) - len(written))
        console.print(
            f"7. {demo.name}: {len(written)} sealed PDFs + signed XML packages in {out / demo.school_id}/ — "
            f"hocba verify: {passed}/{len(verdicts)} TOTAL_PASSED"
        )
        for verdict in verdicts[:2] + [v for v in verdicts if not v["passed"]][:5]:
            console.print(escape(f"   {verdict['file']}: {verdict['indication']} — {verdict['summary']}"))
    return failed, every


def _qr(schools: list[DemoSchool], out: Path, console: Console) -> int:
    """The province's QR trust list (served by the gateway), the offline page, and one printed QR checked."""
    import typer

    from cli.qr import verdicts_for, write_trust_list
    from services.signing.verifier.qr_page import render

    trust_list = Path(
        "var/qr-trust-list.json"
    )  # the gateway's default GATEWAY_QR_TRUST_LIST, from this directory
    try:
        write_trust_list(trust_list, [], [])
        verdicts, listed = verdicts_for(
            str(sorted((out / schools[0].school_id).glob("*.pdf"))[0]), str(trust_list)
        )
    except (typer.Exit, IndexError, OSError, subprocess.CalledProcessError) as error:
        console.print(f"   the printed QR could not be checked: {escape(repr(error))}")
        return 1
    page = out / "kiem-tra-qr.html"
    page.write_text(
        render(listed.signer_key, trust_list.read_bytes(), f"{gateway_url()}/api/v1/qr/trust-list")
    )
    console.print(
        f"   the QR on page 1 of {schools[0].name}'s first PDF, read by zbar: {verdicts[0].code} — "
        f"{escape(verdicts[0].message_vi)}; trust list {trust_list} ({len(listed.entries)} schools, served at "
        f"{gateway_url()}/api/v1/qr/trust-list), offline page {page} — `hocba verify qr FILE.pdf|PNG|TEXT`"
    )
    return 0 if all(v.valid for v in verdicts) else 1


def _lookups(pipeline: Pipeline, schools: list[DemoSchool], console: Console) -> None:
    for demo in schools:
        status = pipeline.sync_status(demo)
        first = status["classes"][0]
        console.print(
            f"8. {demo.name}: {status['accepted']} accepted, {status['rejected']} rejected, {status['pending']} "
            f"pending at the province; {first['days_to_cutoff']} days to the cutoff ({first['cutoff']}) — "
            f"`hocba sync status --school {demo.school_id}`"
        )
        school_token = pipeline.connect_gateway(demo)
        items = http_client.get(
            f"{gateway_url()}/api/v1/records",
            params={"limit": 2},
            headers={"Authorization": f"Bearer {school_token}"},
            timeout=30,
        ).json()["items"]
        for item in items:
            console.print(
                f"   lookup (no login, the printed QR code): {gateway_url()}/hocba/{item['lookup_code']}"
            )


def _audit(schools: list[DemoSchool], console: Console) -> int:
    """Each school's chain head timestamped by the TSA now (the audit service also does it on a timer), then the
    whole chain and its checkpoints verified."""
    failed = 0
    for demo in schools:
        command = [sys.executable, "-m", "cli.main", "audit"]
        subprocess.run([*command, "checkpoint", "--school", demo.school_id], capture_output=True, check=False)
        verified = subprocess.run(
            [*command, "verify", "--school", demo.school_id], capture_output=True, text=True, check=False
        )
        failed += verified.returncode != 0
        console.print(
            f"10. audit checkpoint (RFC 3161) + hocba audit verify --school {demo.school_id}: "
            f"{'intact' if verified.returncode == 0 else 'BROKEN'} (exit {verified.returncode})"
        )
    return failed
