"""The `hocba` command."""

from __future__ import annotations

import sys
import warnings

# Commands that run nameko need eventlet's patching before anything else is imported (eventlet upgrades the
# locks of modules already loaded, and trips over some); the relay and the tools run without it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
if len(sys.argv) > 1 and sys.argv[1] in ("run", "bench"):
    from services.runtime import green

    green.patch()

import ctypes
import json
import os
import signal
import subprocess
import time
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli import archive, audit, dlq, rules, signing, sync, verify
from cli.registry import ANIMATOR_PORT, SERVICES, entry, gateway_url, issuer_url, local_url, stand_in_port

app = typer.Typer(help="Học bạ số platform: run, operate and check the services.", no_args_is_help=True)
broker_app = typer.Typer(help="RabbitMQ topology.", no_args_is_help=True)
db_app = typer.Typer(help="Service databases.", no_args_is_help=True)
bench_app = typer.Typer(
    help="Benchmarks (ratios against a baseline measured in the same run).", no_args_is_help=True
)
app.add_typer(broker_app, name="broker")
app.add_typer(db_app, name="db")
contracts_app = typer.Typer(
    help="Published contracts (checked in CI against the code).", no_args_is_help=True
)
app.add_typer(bench_app, name="bench")
app.add_typer(contracts_app, name="contracts")
app.add_typer(dlq.app, name="dlq")
app.add_typer(rules.app, name="rules")
app.add_typer(audit.app, name="audit")
app.add_typer(signing.app, name="signing")
app.add_typer(sync.app, name="sync")
app.command("sign")(signing.sign_command)
app.command("export")(archive.export_command)
app.command("import")(archive.import_command)
app.add_typer(verify.app, name="verify")
deploy_app = typer.Typer(help="Deployment manifests.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")

console = Console(stderr=True)


@broker_app.command("setup")
def broker_setup() -> None:
    """Declare exchanges, consumer queues and dead-letter queues, apply the policies, and create a user per service,
    per relay and per vendor with exactly its row of the permission table. Idempotent."""
    from services.runtime.broker import setup_broker
    from services.runtime.broker_access import setup_users, table_for
    from services.runtime.settings import get_settings

    settings = get_settings()
    classes = [e.load() for e in SERVICES.values()]
    result = setup_broker(settings, classes, SERVICES)
    users = setup_users(settings, table_for(classes, SERVICES, settings))
    console.print(
        f"broker ready: {result['exchanges']} exchanges, {result['queues']} queues, "
        f"{result['policies']} policies (via {result['via']}); {len(users)} users: {', '.join(users)}"
    )


@db_app.command("upgrade")
def db_upgrade(
    service: Annotated[list[str] | None, typer.Argument(help="Services (default: all)")] = None,
) -> None:
    """Create each service's database if missing and run its migrations to head."""
    from services.runtime.migrations import upgrade

    for name in service or list(SERVICES):
        entry(name)
        upgrade(name)
        console.print(f"{name}: migrated to head")


@contracts_app.command("openapi")
def contracts_openapi(
    out_dir: Annotated[Path, typer.Option(help="Where to write")] = Path("contracts/openapi"),
) -> None:
    """Write each HTTP service's OpenAPI 3.1 document (generated from its request models and routes)."""
    from services.audit import api as audit_api
    from services.gradebook import api as gradebook_api
    from services.runtime.openapi import openapi_document
    from services.signing import api as signing_api
    from services.sync import api as sync_api
    from services.transcript import api as transcript_api

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, routes in (
        ("gradebook", gradebook_api.ROUTES),
        ("transcript", transcript_api.ROUTES),
        ("signing", signing_api.ROUTES),
        ("sync", sync_api.ROUTES),
        ("audit", audit_api.ROUTES),
    ):
        doc = openapi_document(f"Học bạ số — {name}", "1.0.0", routes)
        (out_dir / f"{name}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        )
        console.print(f"wrote {out_dir / f'{name}.json'}")


@deploy_app.command("manifests")
def deploy_manifests(
    base: Annotated[Path, typer.Option(help="kustomize base")] = Path("deploy/k8s/base"),
) -> None:
    """Regenerate the base manifests that mirror the code (services, queues, policies, users, databases)."""
    from cli.manifests import render

    for path in render(base):
        console.print(f"wrote {path}")


@contracts_app.command("asyncapi")
def contracts_asyncapi(
    out: Annotated[
        Path | None, typer.Option(help="Write here instead of stdout, e.g. contracts/asyncapi.yaml")
    ] = None,
) -> None:
    """The AsyncAPI 3.0 document generated from the event models (YAML on stdout)."""
    import yaml

    from contracts.asyncapi import asyncapi_document

    text = yaml.safe_dump(asyncapi_document(), allow_unicode=True, sort_keys=False, width=110)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"wrote {out}")


@db_app.command("prune")
def db_prune(
    service: Annotated[list[str] | None, typer.Argument(help="Services (default: all)")] = None,
    older_than: Annotated[
        str, typer.Option(help="Published outbox rows and inbox claims older than this: 14d")
    ] = "14d",
) -> None:
    """Delete published outbox rows and old inbox claims (unpublished events are never deleted)."""
    from services.runtime.db import make_engine, new_metadata
    from services.runtime.dlq import parse_age
    from services.runtime.maintenance import prune
    from services.runtime.settings import get_settings
    from services.runtime.tables import runtime_tables

    try:
        age = parse_age(older_than)
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    outbox, inbox = runtime_tables(new_metadata())
    for name in service or list(SERVICES):
        entry(name)
        engine = make_engine(get_settings().db_url(name), pool_size=1)
        pruned = prune(engine, outbox, inbox, age)
        engine.dispose()
        console.print(f"{name}: deleted {pruned.outbox} published outbox rows, {pruned.inbox} inbox claims")


@app.command()
def token(
    role: Annotated[
        list[str], typer.Option("--role", help="teacher, homeroom, principal, staff, inspector, operator")
    ],
    user: Annotated[str, typer.Option(help="User id (opaque)")] = "dev-user",
    school: Annotated[str | None, typer.Option(help="School id the user acts for")] = None,
    assignment: Annotated[list[str] | None, typer.Option(help="subject_code:class_id (teachers)")] = None,
    homeroom: Annotated[list[str] | None, typer.Option(help="class id (homeroom teachers)")] = None,
    inspects: Annotated[
        list[str] | None,
        typer.Option(
            help="School id an inspector reads (repeatable; the inspected_schools claim, inspectors only)"
        ),
    ] = None,
    hours: Annotated[float, typer.Option(help="Validity")] = 8.0,
) -> None:
    """Mint a development token, signed by the sandbox issuer (var/issuer; services verify it with its JWKS)."""
    from datetime import timedelta

    from sandbox.issuer import mint_token
    from services.runtime.auth import Role
    from services.runtime.settings import get_settings

    try:
        roles = [Role(r).value for r in role]
    except ValueError as error:
        console.print(f"[red]{error}[/red]; roles: {', '.join(r.value for r in Role)}")
        raise typer.Exit(2) from None
    typer.echo(
        mint_token(
            get_settings(),
            user_id=user,
            roles=roles,
            school_id=school,
            assignments=assignment or [],
            homeroom_classes=homeroom or [],
            inspected_schools=inspects or [],
            ttl=timedelta(hours=hours),
        )
    )


@app.command("run")
def run_service(
    service: str, port: Annotated[int | None, typer.Option(help="HTTP port (default per service)")] = None
) -> None:
    """Run one service in the foreground (what a container runs)."""
    from cli.processes import run_service as run

    run(service, port)


@app.command("relay")
def relay(
    service: str, metrics_port: Annotated[int | None, typer.Option(help="Expose /metrics")] = None
) -> None:
    """Run one service's outbox relay in the foreground."""
    from cli.processes import run_relay

    run_relay(service, metrics_port)


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0


REPLICA_PORT_STEP = 10  # replica k of a service serves HTTP on its port + k * 10 (8001, 8011, 8021…)


def stack_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every process of a local stack runs with: where the others answer, on this stack's ports."""
    return {
        **os.environ,
        "HOCBA_GATEWAY_URL": gateway_url(),
        # Signing fetches unsigned documents from transcript, sync sealed ones from signing: with a port offset
        # they must reach this stack's, not whatever answers on the default ports.
        "HOCBA_TRANSCRIPT_URL": local_url("transcript"),
        "HOCBA_SIGNING_URL": local_url("signing"),
        # Services get their service-to-service tokens from this stack's development issuer.
        "HOCBA_OAUTH_TOKEN_URL": f"{issuer_url()}/token",
        **(env or {}),
    }


def as_own_broker_user(args: list[str], env: dict[str, str]) -> dict[str, str]:
    """``env`` for the process ``hocba <args>``: a service (``run <name>``) or a relay (``relay <name>``) logs in to
    the broker as its own user, whose password derives from the development secret (`hocba broker setup` created
    it with exactly its row of runtime/broker_access.py's table), and declares no shared exchange. Without that
    secret, ``env`` unchanged."""
    from services.runtime.broker_access import amqp_uri_as, relay_principal
    from services.runtime.settings import get_settings

    args = [a for a in args if a != "cli.main"]
    settings = get_settings()
    if len(args) < 2 or args[0] not in ("run", "relay") or settings.broker_user_secret is None:
        return env
    principal = args[1] if args[0] == "run" else relay_principal(args[1])
    settings = settings.model_copy(update={"amqp_uri": env.get("HOCBA_AMQP_URI", settings.amqp_uri)})
    # Its user may not configure the shared exchanges: `hocba broker setup` declared them.
    return {**env, "HOCBA_AMQP_URI": amqp_uri_as(principal, settings), "HOCBA_DECLARE_EXCHANGES": "false"}


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when the thread that started it ends (a killed test run
    or `hocba up` leaves no service, relay or stand-in behind on the machine's ports)."""
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else (lambda *_: 0)


def launch(args: list[str], log: Path | None, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python -m <args>`` in its own session (Ctrl-C reaches only `hocba up`), output appended to ``log``; it
    dies with the thread that launched it, so launch from a thread that lives as long as the process should."""
    out = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            start_new_session=True,
            stdout=out,
            stderr=out,
            env=env,
            preexec_fn=_die_with_parent,  # one prebound libc call: no Python lock is taken in the child
        )
    finally:
        if out is not None:
            out.close()  # the child holds its own copy


def _stand_ins(names: list[str]) -> list[tuple[list[str], int]]:
    """Development stand-ins for what a province provides, with the port each serves: the development token issuer,
    the test PKI's TSA/CRLs, a remote signing service, the receiving gateway with its lookup portal (checking
    signatures with our verifier)."""
    stand_ins: list[tuple[list[str], int]] = []
    if {"signing", "sync"} & set(names):
        issuer = stand_in_port("issuer")
        stand_ins.append((["sandbox.issuer", "--port", str(issuer)], issuer))
    if "signing" in names:
        signer = stand_in_port("remote_signer")
        stand_ins += [
            (["sandbox.pki.animator"], ANIMATOR_PORT),
            (["sandbox.remote_signer", "--port", str(signer)], signer),
        ]
    if "sync" in names:
        gateway, admin = stand_in_port("gateway"), stand_in_port("gateway_admin")
        verifier = "services.signing.verifier:check"
        serve = ["sandbox.gateway", "serve", "--port", str(gateway), "--admin-port", str(admin)]
        stand_ins.append(([*serve, "--verifier", verifier], gateway))
    return stand_ins


def spawn_stack(
    names: list[str], log_dir: Path | None = None, env: dict[str, str] | None = None, replicas: int = 1
) -> list[subprocess.Popen[bytes]]:
    """One process per service and one relay per service, as in production (separate pods).

    ``replicas`` runs that many of each (they share the work through the broker's queues and SKIP LOCKED rows);
    replica 0 keeps the usual port. Without ``log_dir`` their JSON logs go to this terminal; with it, to
    ``<log_dir>/<process>.log``.
    """
    full_env = stack_env(env)
    stand_ins = _stand_ins(names)
    # The Animator is the test PKI's published address, one per machine: another stack may already serve it. Every
    # other port is this stack's own; one already answering is another stack's, never to be adopted by this one.
    taken = [port for args, port in stand_ins if port != ANIMATOR_PORT and _answers(port)]
    taken += [entry(name).port for name in names if _answers(entry(name).port)]
    if "sync" in names and _answers(stand_in_port("gateway_admin")):
        taken.append(stand_in_port("gateway_admin"))
    if taken:
        raise SystemExit(
            f"ports {', '.join(map(str, taken))} already answer: another stack runs here "
            "(stop it, or set HOCBA_PORT_OFFSET for this one)"
        )
    procs = []
    for name in names:
        port = entry(name).port
        for k in range(replicas):
            for args in (
                ["run", name, *(["--port", str(port + k * REPLICA_PORT_STEP)] if k else [])],
                ["relay", name],
            ):
                log = (
                    log_dir / f"{'-'.join(args[:2])}{f'-{k}' if k else ''}.log"
                    if log_dir is not None
                    else None
                )
                procs.append(launch(["cli.main", *args], log, as_own_broker_user(args, full_env)))
    for args, port in stand_ins:
        if port == ANIMATOR_PORT and _answers(port):
            continue
        log = log_dir / f"{args[0]}.log" if log_dir is not None else None
        procs.append(launch(args, log, full_env))
    return procs


def stop_stack(procs: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@app.command()
def up(
    services: Annotated[list[str] | None, typer.Argument(help="Services (default: all that exist)")] = None,
) -> None:
    """Run the services and their relays, one process each, until Ctrl-C (which stops them cleanly)."""
    names = services or list(SERVICES)
    # SIGTERM stops the children too, like Ctrl-C; and SIGINT is handled even when `hocba up` was started in the
    # background by a non-interactive shell, which starts it with SIGINT ignored (Python then leaves it ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    procs = spawn_stack(names)
    console.print(
        f"running {', '.join(names)} (+ relays); "
        + ", ".join(f"{n} http://127.0.0.1:{SERVICES[n].port}" for n in names)
        + "; Ctrl-C stops"
    )
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        console.print("[red]a process exited; stopping the rest[/red]")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        stop_stack(procs)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where every sealed PDF and XML package is written")] = Path(
        "demo-out"
    ),
) -> None:
    """A primary and a lower-secondary school through the whole pipeline, on local defaults; safe to run again."""
    from cli.demo.run import demo_env, run_demo
    from services.runtime.settings import get_settings

    log_dir = Path("var/demo-logs")
    console.print(f"service and relay logs: {log_dir}/")
    os.environ.update(demo_env())  # this process prints lookup URLs too; the services inherit it
    get_settings.cache_clear()
    raise typer.Exit(run_demo(partial(spawn_stack, log_dir=log_dir), stop_stack, console, out))


@bench_app.command("backbone")
def bench_backbone(
    events: Annotated[int, typer.Option(help="Events per pipeline")] = 3000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Events/s through outbox → relay → broker → inbox consumer, against raw kombu with confirms."""
    from cli.bench.backbone import run

    result = run(events, console)
    if as_json:
        typer.echo(json.dumps(result))


@bench_app.command("gradebook")
def bench_gradebook(
    classes: Annotated[int, typer.Option(help="Classes in the sample school")] = 40,
    reads: Annotated[int, typer.Option(help="Class-sheet reads")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Score writes/s and class-sheet read latency, against a bare SQLAlchemy insert loop."""
    from cli.bench.gradebook import run

    result = run(classes, reads, console)
    if as_json:
        typer.echo(json.dumps(result))


@bench_app.command("audit")
def bench_audit(
    events: Annotated[int, typer.Option(help="Audit events to append")] = 5000,
    schools: Annotated[int, typer.Option(help="Schools (independent chains)")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Audit events/s appended to the hash-chained log against a bare INSERT loop."""
    from cli.bench.audit import run

    result = run(events, schools, console)
    if as_json:
        typer.echo(json.dumps(result))


@bench_app.command("signing")
def bench_signing(
    students: Annotated[int, typer.Option(help="Students in the class")] = 45,
    steps: Annotated[int, typer.Option(help="Teachers' steps to sign per record")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Signatures/s of the signing service for a class batch, against a bare pyHanko loop with a cached key."""
    from cli.bench.signing import run

    result = run(students, steps, console)
    if as_json:
        typer.echo(json.dumps(result))


@bench_app.command("peak")
def bench_peak(
    students: Annotated[
        int,
        typer.Option(
            help="Students through the whole pipeline. The default takes some 5 minutes on a 2-core machine "
            "(20 students: 112 s from the first lock to the last acceptance, then ~50 s of baseline); time grows "
            "about linearly (15 PDF signatures per grade-8 record, in order), so a few thousand take hours here"
        ),
    ] = 40,
    schools: Annotated[
        int, typer.Option(help="Schools the students are split over (they sign in parallel)")
    ] = 4,
    workers: Annotated[int, typer.Option(help="Replicas of each service and relay")] = 1,
    grade: Annotated[int, typer.Option(help="8: lower secondary (more signers per record), 5: primary")] = 8,
    plot: Annotated[Path | None, typer.Option(help="Draw stages and backlogs over time to this PNG")] = None,
    offset: Annotated[int, typer.Option(help="HOCBA_PORT_OFFSET of the bench's own stack")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Records sealed and accepted per second through the whole pipeline, per stage and end to end, on the
    bench's own stack (own databases, vhost and ports); backlogs, CPU and RSS per process; the same signatures
    by a bare pyHanko loop with cached keys in the same run; and the cores Hà Nội's 2.19 million records in 8 h
    would need at the measured rate."""
    from cli.bench.peak import run

    if grade not in (5, 8):
        console.print("[red]--grade is 5 (primary) or 8 (lower secondary)[/red]")
        raise typer.Exit(2)
    result = run(students, schools, workers, grade, offset, console, plot=plot)
    if as_json:
        typer.echo(json.dumps(result))


@bench_app.command("transcript")
def bench_transcript(
    students: Annotated[int, typer.Option(help="Students in the class")] = 45,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON")] = False,
) -> None:
    """Year records per second (XML + PDF/A-3) for a class, and the ratio of PDF to XML time."""
    from cli.bench.transcript import run

    result = run(students, console)
    if as_json:
        typer.echo(json.dumps(result))


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
