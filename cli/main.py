"""The `hocba` command: every command group wired into one app, and the commands too small for a module."""

from __future__ import annotations

import sys
import warnings

# Commands that run nameko need eventlet's patching before anything else is imported (eventlet upgrades the
# locks of modules already loaded, and trips over some); the relay and the tools run without it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
if len(sys.argv) > 1 and sys.argv[1] in ("run", "bench"):
    from services.runtime import green

    green.patch()

import json
import os
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli import archive, audit, bench, dlq, outbox, qr, rules, signing, sync, verify
from cli.registry import SERVICES, entry

app = typer.Typer(help="Học bạ số platform: run, operate and check the services.", no_args_is_help=True)
broker_app = typer.Typer(help="RabbitMQ topology.", no_args_is_help=True)
db_app = typer.Typer(help="Service databases.", no_args_is_help=True)
app.add_typer(broker_app, name="broker")
app.add_typer(db_app, name="db")
contracts_app = typer.Typer(
    help="Published contracts (checked in CI against the code).", no_args_is_help=True
)
app.add_typer(bench.app, name="bench")
app.add_typer(contracts_app, name="contracts")
app.add_typer(dlq.app, name="dlq")
app.add_typer(outbox.app, name="outbox")
app.add_typer(rules.app, name="rules")
app.add_typer(audit.app, name="audit")
app.add_typer(signing.app, name="signing")
app.add_typer(sync.app, name="sync")
app.add_typer(qr.app, name="qr")
app.command("sign")(signing.sign_command)
app.command("export")(archive.export_command)
app.command("import")(archive.import_command)
app.add_typer(verify.app, name="verify")
deploy_app = typer.Typer(help="Deployment manifests.", no_args_is_help=True)
app.add_typer(deploy_app, name="deploy")

console = Console(stderr=True)


@broker_app.command("setup")
def broker_setup() -> None:
    """Declare exchanges and the platform's durable queues (consumer, retry and dead-letter queues, of the type
    HOCBA_QUEUE_TYPE names: quorum on the cluster, classic by default), apply the policies, and create a user per
    service, per relay and per vendor with exactly its row of the permission table. Idempotent. An empty queue of the
    other type left with a platform queue's name is replaced; one holding messages stops setup, changing nothing."""
    from services.runtime.broker import QueuesOfAnotherType, setup_broker
    from services.runtime.broker_access import setup_users, table_for
    from services.runtime.settings import get_settings

    settings = get_settings()
    classes = [e.load() for e in SERVICES.values()]
    try:
        result = setup_broker(settings, classes, SERVICES)
    except QueuesOfAnotherType as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    for queue, was in result["migrated"].items():
        console.print(
            f"{queue}: was an empty {was} queue; deleted and declared again as a {settings.queue_type} queue",
            soft_wrap=True,
        )
    users = setup_users(settings, table_for(classes, SERVICES, settings))
    console.print(
        f"broker ready: {result['exchanges']} exchanges, {result['queues']} {settings.queue_type} queues, "
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


@app.command()
def up(
    services: Annotated[list[str] | None, typer.Argument(help="Services (default: all that exist)")] = None,
) -> None:
    """Run the services and their relays, one process each, until Ctrl-C (which stops them cleanly)."""
    from cli.stack import supervise

    raise typer.Exit(supervise(services or list(SERVICES), console))


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Where every sealed PDF and XML package is written")] = Path(
        "demo-out"
    ),
) -> None:
    """A primary and a lower-secondary school through the whole pipeline, with a re-test, summer training, an
    exemption, a year-end and a mid-year transfer from a third school and a grade-4 supplementary assessment (each
    case's path to the province); local defaults; safe to run again."""
    from cli.demo.run import demo_env, run_demo
    from cli.stack import spawn_stack, stop_stack
    from services.runtime.settings import get_settings

    log_dir = Path("var/demo-logs")
    console.print(f"service and relay logs: {log_dir}/")
    os.environ.update(demo_env())  # this process prints lookup URLs too; the services inherit it
    get_settings.cache_clear()
    raise typer.Exit(run_demo(partial(spawn_stack, log_dir=log_dir), stop_stack, console, out))


@app.command("fuzz")
def fuzz(
    examples: Annotated[
        int, typer.Option(help="Valid requests per operation (and as many invalid ones)")
    ] = 50,
    seed: Annotated[int, typer.Option(help="Hypothesis seed: the same seed sends the same requests")] = 0,
    service: Annotated[list[str] | None, typer.Option(help="Only these services (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
) -> None:
    """schemathesis against every service of the running local stack (`hocba up`) with development tokens and a
    school seeded through the APIs: exits 1 on a server error or a refusal that is not a Vietnamese problem."""
    from cli.fuzz import run_against_stack
    from cli.fuzz.run import SERVICES as FUZZED

    for name in service or []:
        entry(name)
    report = run_against_stack(console, examples, seed, tuple(service or FUZZED))
    if as_json:
        typer.echo(json.dumps(report.summary(), ensure_ascii=False))
    raise typer.Exit(1 if report.failures else 0)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
