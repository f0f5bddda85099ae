"""An operator command's request to a running service: a development token for the role, a refusal made exit 1."""

# No `from __future__ import annotations`: typer reads the options of school_status's command from annotations that
# name the service, so they must be evaluated when the command is made.

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.options import JsonReport, School
from cli.registry import dev_token, local_url
from services.runtime import http_client

console = Console()


def call(
    service: str,
    method: str,
    path: str,
    *,
    url: str | None,
    roles: list[str],
    school: str | None,
    body: dict[str, Any] | None = None,
) -> Any:
    """``method path`` at ``service`` (``url``, else where `hocba up` serves it) as the CLI's user with ``roles`` at
    ``school``; its JSON answer, or the service's refusal printed and the command ended with exit 1."""
    response = http_client.request(
        method,
        f"{url or local_url(service)}{path}",
        json=body,
        headers={"Authorization": f"Bearer {dev_token('hocba-cli', roles, school)}"},
        timeout=30,
    )
    if response.status_code != 200:
        console.print(f"[red]{service} service answered {response.status_code}: {response.text[:300]}[/red]")
        raise typer.Exit(1)
    return response.json()


def school_status(service: str, show: Callable[[str, Any], None], doc: str) -> Callable[..., None]:
    """The command `hocba <service> status --school S [--json] [--url U]`: the school's status report from
    ``service`` as its principal reads it, printed as JSON or by ``show(school, report)``."""

    def status(
        school: School,
        as_json: JsonReport = False,
        url: Annotated[str | None, typer.Option(help=f"{service.capitalize()} service base URL")] = None,
    ) -> None:
        report = call(
            service, "GET", f"/schools/{school}/{service}/status", url=url, roles=["principal"], school=school
        )
        if as_json:
            typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            show(school, report)

    status.__doc__ = doc
    return status
