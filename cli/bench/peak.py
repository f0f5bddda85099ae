"""`hocba bench peak`: sample schools through the whole pipeline on a private stack, against a bare pyHanko loop.

Every record goes the way it would at the end of the year: marks entered over HTTP, both terms locked, the
transcript assembled (XML + PDF/A-3), every teacher and the principal signing through the simulated remote signer,
the HSM seal, and the report to the simulated province gateway. The stack is the bench's own: ports moved by
``offset``, databases ``hocba_bench_peak_<offset>_*``, RabbitMQ vhost of the same name, ``workers`` replicas of each
service and relay. Afterwards the same signatures are made on the same documents by a bare pyHanko loop with a
cached key, in the same run, so the ratio says what the platform costs over the signatures themselves.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from cli.bench.peak_mix import DEFAULT_MIX, Kind, mix_cpu_per_record, parse_mix, split
from cli.bench.peak_sampler import PLATFORM, STAGES, Sampler, stage_rates
from services.runtime import http_client

HANOI_RECORDS = 2_190_000  # Hà Nội's year records in one reporting season
WINDOW_HOURS = 8.0
IDLE_SECONDS = 5.0  # how long the idle stack is measured under the sampler's polling before the run
CLASS_SIZE = 45


def bench_env(offset: int) -> dict[str, str]:
    """The private stack's environment: ports, databases, vhost, and the clock set before the reporting cutoff."""
    from cli.demo.pipeline import REHEARSAL_DAY
    from cli.registry import SERVICES, stand_in_port
    from services.runtime.settings import get_settings

    settings = get_settings()
    name = f"hocba_bench_peak_{offset}"
    db = settings.db_url("gradebook").rsplit("/", 1)[0] + f"/{name}_{{}}"
    env = {
        "HOCBA_PORT_OFFSET": str(offset),
        "HOCBA_AMQP_URI": settings.amqp_uri.rsplit("/", 1)[0] + f"/{name}",
        "HOCBA_DB_URL_GATEWAY": db.format("gateway"),
        "HOCBA_REPORTING_DAY": REHEARSAL_DAY,
        "GATEWAY_TODAY": REHEARSAL_DAY,
        "HOCBA_LOG_LEVEL": "WARNING",
        "GATEWAY_LOG_LEVEL": "WARNING",
        **{f"HOCBA_DB_URL_{n.upper()}": db.format(n) for n in SERVICES},
    }
    # Ports chosen by whoever runs the bench (HOCBA_PORT_<NAME>, as the tests do) win over the offset.
    gateway = stand_in_port("gateway", {**os.environ, **env})
    env["HOCBA_LOOKUP_BASE_URL"] = f"http://127.0.0.1:{gateway}/hocba"
    return env


def prepare(env: dict[str, str]) -> None:
    """Fresh databases (migrated), a fresh vhost with the topology and policies; this process follows ``env``."""
    from cli.registry import SERVICES
    from sandbox.gateway.settings import get_gateway_settings
    from services.runtime.broker import recreate_vhost, setup_broker, vhost_of
    from services.runtime.broker_access import setup_users, table_for
    from services.runtime.db import recreate_database
    from services.runtime.migrations import upgrade
    from services.runtime.settings import get_settings

    os.environ.update(env)
    get_settings.cache_clear()
    get_gateway_settings.cache_clear()
    settings = get_settings()
    recreate_vhost(settings.rabbit_management_url, vhost_of(settings.amqp_uri))
    for name in SERVICES:
        recreate_database(settings.db_url(name))
        upgrade(name, settings.db_url(name))
    recreate_database(env["HOCBA_DB_URL_GATEWAY"])
    classes = [e.load() for e in SERVICES.values()]
    setup_broker(settings, classes, SERVICES)
    setup_users(
        settings, table_for(classes, SERVICES, settings)
    )  # spawn_stack logs each process in as its own


@dataclass
class Run:
    """What the driver saw, for the report."""

    students: int = 0
    person_signatures: int = 0
    entry_started: float = 0.0
    entry_finished: float = 0.0
    first_lock: float = 0.0
    sealed_at: float = 0.0
    finished: float = 0.0
    record_ids: list[tuple[str, str]] = field(default_factory=list)  # (school, record id)
    idle_cpu_per_s: float = (
        0.0  # the platform's CPU with nothing to do but answer the sampler (Sampler.idle_cpu_rate)
    )


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def drive(schools: list[Any], workers: int, sampler: Sampler, console: Console, timeout: float) -> Run:
    """Load, enter and lock every school at once, then let every waiting signer sign until all are reported."""
    import eventlet

    from cli.demo.pipeline import Pipeline
    from cli.registry import dev_token, remote_signer_url
    from cli.stack import REPLICA_PORT_STEP
    from sandbox.ports import answers

    replicas = []
    for k in range(workers):
        pipeline = Pipeline(dev_token, timeout=300)
        pipeline.url = {
            n: u.rsplit(":", 1)[0] + f":{int(u.rsplit(':', 1)[1]) + k * REPLICA_PORT_STEP}"
            for n, u in pipeline.url.items()
        }
        replicas.append(pipeline)
    driver = replicas[0]
    for pipeline in replicas:
        _wait(pipeline.ready, 120, "the services and the gateway")
    _wait(lambda: answers(int(remote_signer_url().rsplit(":", 1)[1])), 60, "the remote signer")
    run = Run(students=sum(len(s.school.students) for s in schools))

    def prepare_school(demo: Any) -> None:
        driver.load(demo)
        driver.connect_gateway(demo)
        driver.provision_seal(demo)

    with console.status(f"loading {len(schools)} schools, {run.students} students"):
        list(eventlet.GreenPool(len(schools)).imap(prepare_school, schools))
    sheets = {s.school_id: driver.marks_requests(s) for s in schools}
    total_sheets = sum(len(v) for v in sheets.values())
    sampler.marks_total = total_sheets
    with console.status(f"the idle stack under the sampler's polling, {IDLE_SECONDS:.0f} s"):
        run.idle_cpu_per_s = sampler.idle_cpu_rate(IDLE_SECONDS)
    sampler.start()
    run.entry_started = time.monotonic()

    def enter_and_lock(demo: Any) -> None:
        for i, (class_id, term, code) in enumerate(sheets[demo.school_id]):
            replicas[i % workers].enter(demo, class_id, term, code)
            sampler.marks_done += 1
        if not run.first_lock:
            run.first_lock = time.monotonic()
            sampler.mark_cpu()
        driver.lock_year(demo)

    with console.status(f"teachers enter {total_sheets} mark sheets, the principals lock the year"):
        list(eventlet.GreenPool(len(schools)).imap(enter_and_lock, schools))
    run.entry_finished = time.monotonic()
    deadline = time.monotonic() + timeout
    pool = eventlet.GreenPool(max(4, 2 * len(schools)))
    turn = 0

    def sign(demo: Any, pipeline: Any, signer_id: str) -> int:
        from cli.signer_client import sign_as

        result = sign_as(
            pipeline.url["signing"],
            remote_signer_url(),
            dev_token(signer_id, ["teacher", "homeroom", "principal"], demo.school_id),
            signer_id,
            organisation=demo.name,
            timeout=600,
        )
        return result.signed

    with console.status("signing, sealing, reporting") as status:
        while True:
            latest = sampler.latest()
            if latest and latest.totals["accepted"] + latest.totals["rejected"] >= run.students:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"not finished after {timeout:.0f} s: {latest.totals if latest else {}}")
            jobs = []
            for demo in schools:
                for c in driver.signing_status(demo)["classes"]:
                    for w in c["waiting_for"]:
                        jobs.append((demo, replicas[turn % workers], w["signer_id"]))
                        turn += 1
            unique = {(d.school_id, s): (d, p, s) for d, p, s in jobs}
            if unique:
                run.person_signatures += sum(pool.starmap(sign, unique.values()))
            else:
                time.sleep(0.5)
            if latest:
                status.update(
                    "signing, sealing, reporting: "
                    + ", ".join(f"{k} {latest.totals[k]}" for k in ("signed", "sealed", "accepted"))
                    + f" of {run.students}"
                )
    run.finished = time.monotonic()
    sampler.stop()
    for demo in schools:
        records = http_client.get(
            f"{driver.url['transcript']}/schools/{demo.school_id}/records",
            headers=driver.auth(demo.school_id, "van-thu", "staff"),
            timeout=60,
        ).json()["records"]
        run.record_ids += [(demo.school_id, r["id"]) for r in records if r["status"] != "superseded"]
    return run


def baseline_documents(run: Run) -> list[tuple[bytes, Any]]:
    """The records' unsigned PDFs with their signature fields, and their plans, as the signing service got them."""
    from lxml import etree

    from cli.registry import dev_token, local_url
    from services.signing.app.handlers import plan_from_xml
    from services.signing.documents import pdf as pdf_doc

    documents = []
    with http_client.client(base_url=local_url("transcript"), timeout=60) as http:
        for school_id, record_id in run.record_ids:
            headers = {"Authorization": f"Bearer {dev_token('van-thu', ['staff'], school_id)}"}
            pdf = http.get(f"/records/{record_id}/pdf", headers=headers)
            xml = http.get(f"/records/{record_id}/xml", headers=headers)
            pdf.raise_for_status()
            xml.raise_for_status()
            plan = plan_from_xml(etree.fromstring(xml.content))
            documents.append((pdf_doc.add_signature_fields(pdf.content, plan), plan))
    return documents


def run(
    students: int,
    schools: int,
    workers: int,
    grade: int,
    offset: int,
    console: Console,
    plot: Path | None = None,
    timeout: float = 3600.0,
    mix: list[Kind] | None = None,
) -> dict[str, Any]:
    from services.runtime import green

    green.patch()
    import logging

    # pyHanko warns about every seal's embedded validation data and DocMDP; the services log it, not the bench.
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    from cli.bench.signing import bare_pyhanko
    from cli.demo.pipeline import DemoSchool
    from cli.stack import spawn_stack, stop_stack
    from sandbox.sample_school import build

    env = bench_env(offset)
    with console.status(f"fresh databases and vhost {env['HOCBA_AMQP_URI'].rsplit('/', 1)[1]}"):
        prepare(env)
    per_school = max(1, math.ceil(students / schools))
    demos = []
    for n in range(schools):
        size = min(per_school, students - n * per_school)
        if size <= 0:
            break
        classes = math.ceil(size / CLASS_SIZE)
        school = build(
            f"bench-{offset}-{n:03d}-{os.urandom(3).hex()}",
            classes=classes,
            students_per_class=math.ceil(size / classes),
            grade=grade,
        )
        demos.append(DemoSchool(school, f"Trường {'TH' if grade == 5 else 'THCS'} Bench {n + 1}"))
    log_dir = Path("var/bench-peak-logs") / str(offset)
    procs = spawn_stack(list(_services()), log_dir=log_dir, env=env, replicas=workers)
    sampler = Sampler(demos, procs, env, offset)
    try:
        result = drive(demos, workers, sampler, console, timeout)
        with console.status("baseline: fetching the same documents"):
            documents = baseline_documents(result)
        _ensure_animator(procs, log_dir)
        with console.status(f"baseline: bare pyHanko loop over {len(documents)} documents (cached keys)"):
            baseline = bare_pyhanko(documents, lambda plan: plan.steps)
    finally:
        sampler.stop()
        stop_stack(procs)
    report = summarise(result, baseline, sampler, workers, grade, len(demos), mix)
    print_report(report, console)
    if plot is not None:
        from cli.bench.peak_plot import draw

        draw(sampler.samples, result.first_lock, plot, title=_title(report))
        console.print(f"plot: {plot}")
    return report


def _ensure_animator(procs: list[Any], log_dir: Path) -> None:
    """The test PKI's TSA/CRL server is one per machine, shared with other stacks: if the stack that ran it has
    stopped meanwhile, the baseline starts its own (and stops it with the rest)."""
    import subprocess
    import sys

    from cli.registry import ANIMATOR_PORT
    from sandbox.ports import answers

    if answers(ANIMATOR_PORT):
        return
    out = (log_dir / "sandbox.pki.animator.log").open("ab")
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "sandbox.pki.animator"], start_new_session=True, stdout=out, stderr=out
        )
    )
    _wait(lambda: answers(ANIMATOR_PORT), 60, "the TSA/CRL server")


def _services() -> list[str]:
    from cli.registry import SERVICES

    return list(SERVICES)


def _title(report: dict[str, Any]) -> str:
    return (
        f"bench peak: {report['students']} students, {report['workers']} worker(s) per service, "
        f"{report['end_to_end']['records_per_s']} records/s end to end"
    )


def summarise(
    run: Run,
    baseline: Any,
    sampler: Sampler,
    workers: int,
    grade: int,
    schools: int,
    mix: list[Kind] | None = None,
) -> dict[str, Any]:
    records = run.students
    wall = run.finished - run.first_lock
    accepted = sampler.samples[-1].totals["accepted"] if sampler.samples else 0
    rejected = sampler.samples[-1].totals["rejected"] if sampler.samples else 0
    rates = stage_rates(sampler.samples, run.entry_started, run.entry_finished, records)
    signatures = baseline.signatures  # person steps + one seal per record, on both sides
    signing = rates["sealed"]
    signing_window = signing["last_s"] - rates["assembled"]["first_s"]
    pipeline_sig_s = signatures / signing_window if signing_window > 0 else 0.0
    cpu = sampler.cpu_report()
    measured = sum(p["cpu_s"] for p in cpu if p["kind"] in PLATFORM)
    # The sampler's own polling and the stack's idle timers, measured before the run, are not the records' cost.
    idle = run.idle_cpu_per_s * sampler.cpu_window_s()
    platform_cpu = max(0.0, measured - idle)
    cpu_per_record = platform_cpu / records if records else 0.0
    cores_cpu = HANOI_RECORDS * cpu_per_record / (WINDOW_HOURS * 3600)
    cores_here = os.cpu_count() or 1
    needed_rate = HANOI_RECORDS / (WINDOW_HOURS * 3600)
    e2e = accepted / wall if wall > 0 else 0.0
    kinds = parse_mix(DEFAULT_MIX) if mix is None else mix
    parts = split(cpu, PLATFORM, platform_cpu, records, signatures)
    mix_cpu = mix_cpu_per_record(parts, kinds)
    return {
        "students": records,
        "schools": schools,
        "grade": grade,
        "workers": workers,
        "accepted": accepted,
        "rejected": rejected,
        "wall_s": round(wall, 1),
        "stages": {k: {**v, "records_per_s": round(v["records_per_s"], 2)} for k, v in rates.items()},
        "end_to_end": {"records_per_s": round(e2e, 3), "from": "first lock", "to": "last accepted"},
        "signatures": signatures,
        "pipeline_signatures_per_s": round(pipeline_sig_s, 2),
        "baseline": {
            "signatures_per_s": round(baseline.per_s, 2),
            "records_per_s": round(len(run.record_ids) / baseline.seconds, 3) if baseline.seconds else 0,
            "seconds": round(baseline.seconds, 1),
        },
        "ratio": round(pipeline_sig_s / baseline.per_s, 2) if baseline.per_s else 0.0,
        "ratio_end_to_end": round(e2e / (len(run.record_ids) / baseline.seconds), 2)
        if baseline.seconds
        else 0.0,
        "queues": sampler.queue_peaks(),
        "processes": cpu,
        "projection": {
            "records": HANOI_RECORDS,
            "hours": WINDOW_HOURS,
            "needed_records_per_s": round(needed_rate, 1),
            "platform_cpu_s": round(platform_cpu, 1),
            "measured_cpu_s": round(measured, 1),
            "idle_and_polling_cpu_s": round(idle, 1),
            "own_backends_tracked": sampler.backends.backends(),
            "cpu_s_per_record": round(cpu_per_record, 3),
            "records_per_core_s": round(1 / cpu_per_record, 3) if cpu_per_record else 0.0,
            "cores_from_cpu": math.ceil(cores_cpu),
            "cores_from_wall": math.ceil(needed_rate / e2e * cores_here) if e2e else None,
            "cores_on_this_machine": cores_here,
            "mix": {
                "kinds": [{"name": k.name, "signatures": k.signatures, "share": k.share} for k in kinds],
                "cpu_s_per_record_outside_signing": round(parts.per_record, 4),
                "signing_cpu_s_per_signature": round(parts.per_signature, 4),
                "cpu_s_per_kind": {k.name: round(parts.record(k.signatures), 3) for k in kinds},
                "cpu_s_per_record": round(mix_cpu, 3),
                "cores_from_cpu": math.ceil(HANOI_RECORDS * mix_cpu / (WINDOW_HOURS * 3600)),
            },
        },
    }


def print_report(report: dict[str, Any], console: Console) -> None:
    out = Console()
    level = "primary (grade 5)" if report["grade"] == 5 else "lower secondary (grade 8)"
    stages = Table(
        title=f"bench peak: {report['students']} students of {report['schools']} {level} schools, "
        f"{report['workers']} replica(s) per service and relay"
    )
    for column in ("stage", "records", "active window s", "records/s"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for name, label in STAGES:
        s = report["stages"][name]
        stages.add_row(label, str(s["records"]), f"{s['window_s']:.1f}", f"{s['records_per_s']:.2f}")
    e2e = report["end_to_end"]["records_per_s"]
    stages.add_row(
        "[bold]end to end[/bold] (first lock → last accepted)",
        str(report["accepted"]),
        f"{report['wall_s']:.1f}",
        f"[bold]{e2e:.3f}[/bold]",
    )
    out.print(stages)
    base = report["baseline"]
    versus = Table(title="the same signatures on the same documents, same run")
    for column in ("path", "PDF signatures", "signatures/s", "records/s"):
        versus.add_column(column, justify="left" if column == "path" else "right")
    versus.add_row(
        "pipeline (HTTP, DB, remote signer, XML too, HSM seal)",
        str(report["signatures"]),
        str(report["pipeline_signatures_per_s"]),
        f"{e2e:.3f}",
    )
    versus.add_row(
        "bare pyHanko loop, cached keys (PDF only)",
        str(report["signatures"]),
        str(base["signatures_per_s"]),
        f"{base['records_per_s']:.3f}",
    )
    versus.add_row(
        "[bold]ratio pipeline / baseline[/bold]",
        "",
        f"[bold]{report['ratio']}[/bold]",
        f"{report['ratio_end_to_end']}",
    )
    out.print(versus)
    processes = Table(title="CPU and memory, first lock → last accepted")
    for column in ("process", "kind", "CPU s", "CPU %", "peak RSS MiB"):
        processes.add_column(column, justify="left" if column in ("process", "kind") else "right")
    for p in report["processes"]:
        processes.add_row(
            p["name"], p["kind"], f"{p['cpu_s']:.1f}", f"{p['cpu_pct']:.0f}", f"{p['rss_mib']:.0f}"
        )
    out.print(processes)
    queues = Table(title="backlogs (peak, and seconds with any waiting)")
    for column in ("where", "peak", "seconds > 0"):
        queues.add_column(column, justify="left" if column == "where" else "right")
    for name, q in report["queues"].items():
        queues.add_row(name, str(q["peak"]), f"{q['busy_s']:.0f}")
    out.print(queues)
    p = report["projection"]
    out.print(
        f"[bold]Projection[/bold]: Hà Nội's {p['records']:,} records sealed and reported in {p['hours']:.0f} h "
        f"need {p['needed_records_per_s']} records/s.\n"
        f"  Measured: {p['cpu_s_per_record']} CPU s per record across services, relays, their PostgreSQL "
        f"backends and RabbitMQ ({p['records_per_core_s']} records/s per core; {p['measured_cpu_s']} CPU s in "
        f"all, less {p['idle_and_polling_cpu_s']} s that the idle stack spends answering this bench's polling, "
        f"measured before the run) → "
        f"[bold]{p['cores_from_cpu']} cores[/bold] busy for {p['hours']:.0f} h.\n"
        f"  From wall time instead ({e2e:.3f} records/s on this {p['cores_on_this_machine']}-core machine, "
        f"everything sharing it): {p['cores_from_wall']} cores.\n"
        "  Assumptions (the first figure): every record is like these (grade "
        f"{report['grade']}: {report['signatures'] // max(1, len_records(report))} PDF signatures per record, "
        "each with its XAdES twin); CPU scales linearly with cores and replicas; the signers sign as fast as "
        "the platform lets them; the remote signer, the TSA and the province gateway are outside (their CPU "
        "is not counted, nor the gateway's database); RabbitMQ's CPU is the whole broker's; each of this stack's "
        "database backends is read every 0.25 s from the first lock, so one that ends keeps what it had used by its "
        "last reading (one living less than that may be missed); the whole server's ended backends are listed for "
        "reference, not counted."
    )
    m = p["mix"]
    kinds = ", ".join(f"{k['share']:.0%} {k['name']} with {k['signatures']} signatures" for k in m["kinds"])
    out.print(
        f"[bold]For a mix of records[/bold] ({kinds}; --mix): {m['signing_cpu_s_per_signature']} CPU s per signature "
        f"(signing, its relay and database) + {m['cpu_s_per_record_outside_signing']} s per record for the rest → "
        f"{m['cpu_s_per_record']} CPU s per record → [bold]{m['cores_from_cpu']} cores[/bold] for Hà Nội in "
        f"{p['hours']:.0f} h (every record like these: {p['cores_from_cpu']})."
    )


def len_records(report: dict[str, Any]) -> int:
    return int(report["students"])
