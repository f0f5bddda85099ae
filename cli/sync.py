"""`hocba sync status|connect`: what the province holds for a school, and the school's gateway credentials."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.options import School
from cli.service_call import call, school_status

app = typer.Typer(help="Reporting to the province's transcript database.", no_args_is_help=True)
console = Console()


def _show_reporting(school: str, report: dict[str, Any]) -> None:
    """What the province holds for the school, per class, and each rejection with its reason."""
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


app.command("status")(
    school_status(
        "sync",
        _show_reporting,
        "Per class: accepted / pending / rejected (with reasons) / withdrawn, and the days left to the cutoff.",
    )
)


@app.command("connect")
def connect(
    school: School,
    token: Annotated[
        str, typer.Option(help="The school's token at the province gateway", envvar="GATEWAY_TOKEN")
    ],
    url: Annotated[str | None, typer.Option(help="Sync service base URL")] = None,
) -> None:
    """Store the school's gateway credentials (encrypted at rest) so sync can report for it."""
    call(
        "sync",
        "PUT",
        f"/schools/{school}/sync/credentials",
        url=url,
        roles=["operator"],
        school=None,
        body={"token": token},
    )
    console.print(f"gateway credentials stored for {school}")
