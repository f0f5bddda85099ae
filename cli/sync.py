"""`hocba sync status|connect`: what the province holds for a school, and the school's gateway credentials."""

from __future__ import annotations

import json
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from cli.registry import dev_token, local_url

app = typer.Typer(help="Reporting to the province's transcript database.", no_args_is_help=True)
console = Console()


@app.command("status")
def status(
    school: Annotated[str, typer.Option(help="School id")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report")] = False,
    url: Annotated[str | None, typer.Option(help="Sync service base URL")] = None,
) -> None:
    """Per class: accepted / pending / rejected (with reasons) / withdrawn, and the days left to the cutoff."""
    response = httpx.get(
        f"{url or local_url('sync')}/schools/{school}/sync/status",
        headers={"Authorization": f"Bearer {dev_token('hocba-cli', ['principal'], school)}"},
        timeout=30,
    )
    if response.status_code != 200:
        console.print(f"[red]sync service answered {response.status_code}: {response.text[:300]}[/red]")
        raise typer.Exit(1)
    report = response.json()
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"reporting to the province — {school}")
    for column in ("class", "accepted", "pending", "rejected", "withdrawn", "cutoff", "days left"):
        table.add_column(column)
    for c in report["classes"]:
        table.add_row(
            c["class_id"], *(str(c[k]) for k in ("accepted", "pending", "rejected", "withdrawn")), c["cutoff"],
            str(c["days_to_cutoff"]),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"total: {report['accepted']} accepted, {report['pending']} pending, {report['rejected']} rejected, "
        f"{report['withdrawn']} withdrawn; gateway breaker {report['gateway']['breaker']}"
    )
    for c in report["classes"]:
        for r in c["rejections"]:
            console.print(f"[red]rejected[/red] {r['student_id']} ({r['reason']}): {r['detail']}")


@app.command("connect")
def connect(
    school: Annotated[str, typer.Option(help="School id")],
    token: Annotated[
        str, typer.Option(help="The school's token at the province gateway", envvar="GATEWAY_TOKEN")
    ],
    url: Annotated[str | None, typer.Option(help="Sync service base URL")] = None,
) -> None:
    """Store the school's gateway credentials (encrypted at rest) so sync can report for it."""
    response = httpx.put(
        f"{url or local_url('sync')}/schools/{school}/sync/credentials",
        json={"token": token},
        headers={"Authorization": f"Bearer {dev_token('hocba-cli', ['operator'], None)}"},
        timeout=30,
    )
    if response.status_code != 200:
        console.print(f"[red]sync service answered {response.status_code}: {response.text[:300]}[/red]")
        raise typer.Exit(1)
    console.print(f"gateway credentials stored for {school}")
