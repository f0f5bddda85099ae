"""`hocba rules evaluate`: the assessment rules on one student's year, no database, no network."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(help="Assessment rules (TT22/TT27)", no_args_is_help=True)


@app.callback()
def rules() -> None:
    """Assessment rules (TT22 secondary, TT27 primary)."""


def _fail(message: str) -> NoReturn:
    # Exit 2 like a usage error: the input, not the program, is at fault (rules-cli.md).
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("evaluate")
def evaluate_file(
    file: Annotated[
        str, typer.Argument(help="JSON input (see ../shared/domain/rules-cli.md), or - for stdin")
    ],
    circular: Annotated[str, typer.Option(help="tt22 (grades 6–12) or tt27 (grades 1–5)")],
    explain: Annotated[
        bool,
        typer.Option("--explain", help="Add, for every computed value, the rule and numbers (Vietnamese)"),
    ] = False,
) -> None:
    """Print the computed results as JSON; exit 2 with a one-line error naming the field when the input is invalid."""
    # Imported here so that `hocba --help` and the other commands do not pay for the rules.
    from services.gradebook.domain.errors import RuleInputError
    from services.gradebook.domain.evaluate import evaluate

    if circular not in ("tt22", "tt27"):
        _fail(f"--circular must be tt22 or tt27, got {circular!r}")
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {file}: {getattr(error, 'strerror', None) or error}")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"{file}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})")
    if isinstance(payload, dict):
        # The file may leave out "circular" (the option says it); when it gives one, the two must agree.
        stated = payload.setdefault("circular", circular)
        if stated != circular:
            _fail(f"circular: the file says {stated!r} but --circular is {circular!r}")
    try:
        result = evaluate(payload, explain=explain)
    except RuleInputError as error:
        _fail(str(error))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    app()
