"""`hocba outbox`: the rows a relay parked (the broker refused them again and again) and releasing them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.registry import entry

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy import Table as SqlTable

app = typer.Typer(
    help="Service outboxes: rows parked by their relay, and releasing them.", no_args_is_help=True
)
out = Console()


def _outbox(service: str) -> tuple[Engine, SqlTable]:
    from services.runtime.db import make_engine, new_metadata
    from services.runtime.settings import get_settings
    from services.runtime.tables import outbox_table

    entry(service)  # an unknown name exits with the list of services
    return make_engine(get_settings().db_url(service), pool_size=1), outbox_table(new_metadata())


@app.command("parked")
def parked(service: str) -> None:
    """The service's parked rows: event, type, when written, tries, and the broker's last refusal."""
    from sqlalchemy import select

    from services.runtime.relay import parked_rows

    engine, t = _outbox(service)
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.event_id, t.c.ce_type, t.c.created_at, t.c.attempts, t.c.last_error)
            .where(parked_rows(t))
            .order_by(t.c.id)
        ).all()
    engine.dispose()
    table = Table(title=f"{service}: parked outbox rows ({len(rows)})")
    for column in ("event", "type", "written", "tries", "last refusal"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.event_id),
            row.ce_type,
            f"{row.created_at:%Y-%m-%d %H:%M:%S}",
            str(row.attempts),
            escape(row.last_error or ""),
        )
    out.print(table)


@app.command("release")
def release(
    service: str,
    event_id: Annotated[str | None, typer.Option(help="Only this event (default: every parked row)")] = None,
) -> None:
    """Let the relay try parked rows again, once what the broker refused is fixed (an exchange, a permission)."""
    from services.runtime.relay import release_parked

    engine, t = _outbox(service)
    released = release_parked(engine, t, event_id)
    engine.dispose()
    out.print(f"{service}: {released} parked row(s) released; the relay publishes them on its next round")
