"""`hocba rules evaluate`: the assessment rules on one student's year, no database, no network."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Assessment rules (TT22 secondary, TT27 primary).", no_args_is_help=True)


@app.callback()
def rules() -> None:
    """Assessment rules (TT22 secondary, TT27 primary)."""


@app.command("evaluate")
def evaluate_file(
    file: Annotated[
        str, typer.Argument(help="JSON input (see ../shared/domain/rules-cli.md), or - for stdin")
    ],
    circular: Annotated[str, typer.Option(help="tt22 (grades 6–12) or tt27 (grades 1–5)")],
    explain: Annotated[
        bool, typer.Option("--explain", help="Add, for every computed value, the rule and numbers")
    ] = False,
) -> None:
    """Print the computed results as JSON; exit 2 with a one-line error naming the field when the input is invalid."""
    from services.gradebook.domain.errors import RuleInputError
    from services.gradebook.domain.evaluate import evaluate

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2)

    if circular not in ("tt22", "tt27"):
        fail(f"--circular must be tt22 or tt27, got {circular!r}")
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{file}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})")
    if isinstance(payload, dict) and payload.get("circular", circular) != circular:
        fail(f"circular: the file says {payload.get('circular')!r} but --circular is {circular!r}")
    if isinstance(payload, dict):
        payload.setdefault("circular", circular)
    try:
        result = evaluate(payload, explain=explain)
    except RuleInputError as error:
        fail(str(error))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    app()
