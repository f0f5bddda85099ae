"""`hocba audit verify`: recompute every school's hash chain and name the first broken entry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.options import School

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.callback()
def audit() -> None:
    """The audit log."""


@app.command("verify")
def verify(
    school: Annotated[str | None, typer.Option(help="Only this school's chain")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Check an exported JSON Lines file, offline")
    ] = None,
) -> None:
    """Exit 0 when every chain is intact; exit 1 naming the first broken sequence number and why."""
    if file is not None:
        _verify_file(file)
        return
    from services.runtime.db import make_engine
    from services.runtime.settings import get_settings
    from services.runtime.trust import trust_roots

    engine = make_engine(get_settings().db_url("audit"), pool_size=1)
    results = chain_results(engine, trust_roots(get_settings()), school)
    table = Table(title="audit chains (and their timestamped checkpoints)")
    for column in ("chain", "entries", "result"):
        table.add_column(column, overflow="fold")
    broken = 0
    chains = [chain for chain, _, _ in results]
    for chain, last_seq, problem in results:
        if problem is None:
            table.add_row(chain, str(last_seq), "[green]intact[/green]")
        else:
            broken += 1
            table.add_row(chain, str(last_seq), f"[red]broken at {problem.seq}: {problem.reason}[/red]")
    engine.dispose()
    Console().print(table)
    if school is not None and not chains:
        typer.echo(f"no audit entries for school {school}", err=True)
        raise typer.Exit(1)
    if broken:
        raise typer.Exit(1)


def chain_results(engine: Any, roots: list[Any], school: str | None = None) -> list[tuple[str, int, Any]]:
    """(chain, entries, first break or None) for every chain, or one school's: the links and the checkpoints."""
    from sqlalchemy.orm import sessionmaker

    from services.audit.app.checkpoints import verify_checkpoints
    from services.audit.domain.chain import verify as verify_chain
    from services.audit.store.repository import AuditLog

    results = []
    with sessionmaker(engine)() as session:
        log = AuditLog(session)
        for chain, last_seq, last_hash in log.chains(school):
            problem = verify_chain(
                log.chained(chain), head_seq=last_seq, head_hash=last_hash
            ) or verify_checkpoints(log, chain, roots)
            results.append((chain, last_seq, problem))
    return results


@app.command("checkpoint")
def checkpoint(school: Annotated[str | None, typer.Option(help="Only this school's chain")] = None) -> None:
    """Timestamp every chain head that moved since its last checkpoint now (the service does it on a timer)."""
    from sqlalchemy.orm import sessionmaker

    from services.audit.app.checkpoints import take_checkpoints
    from services.runtime.db import make_engine
    from services.runtime.settings import get_settings
    from services.runtime.timestamps import HttpxTimeStamper

    engine = make_engine(get_settings().db_url("audit"), pool_size=1)
    taken = take_checkpoints(sessionmaker(engine), HttpxTimeStamper(get_settings().tsa_url), school)
    engine.dispose()
    Console().print(f"{taken} checkpoint(s) taken")


def _verify_file(file: Path) -> None:
    from services.audit.app.export import verify_file
    from services.runtime.settings import get_settings
    from services.runtime.trust import trust_roots

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        typer.echo(f"cannot read {file}: {error}", err=True)
        raise typer.Exit(2) from None
    problem = verify_file(text, trust_roots(get_settings()))
    if problem is not None:
        Console().print(f"[red]{file}: broken at {problem.seq}: {problem.reason}[/red]")
        raise typer.Exit(1)
    Console().print(f"[green]{file}: intact, sealed by a genuine timestamp[/green]")


@app.command("export")
def export(
    school: School,
    out: Annotated[Path, typer.Option(help="Where to write the JSON Lines file")],
    year: Annotated[
        str | None, typer.Option(help="Only the entries recorded in this school year, e.g. 2025-2026")
    ] = None,
) -> None:
    """The school's audit log as sealed JSON Lines (checked offline by `hocba audit verify --file`)."""
    from sqlalchemy.orm import sessionmaker

    from services.audit.app.export import export as export_log
    from services.runtime.db import make_engine
    from services.runtime.settings import get_settings
    from services.runtime.timestamps import HttpxTimeStamper

    engine = make_engine(get_settings().db_url("audit"), pool_size=1)
    try:
        text = export_log(sessionmaker(engine), HttpxTimeStamper(get_settings().tsa_url), school, year)
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    out.write_text(text, encoding="utf-8")
    Console().print(f"{out}: {text.count(chr(10)) - 1} entries and a seal")
