"""`hocba dlq`: what failed, why, and putting it back — readable at a glance at 2 a.m."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.registry import SERVICES

if TYPE_CHECKING:
    from services.runtime.broker import Subscription

app = typer.Typer(
    help="Dead-letter queues: list, show, replay, purge (each replay and purge is audited).",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


def _settings():  # noqa: ANN202 - imported lazily so `--help` stays fast
    from services.runtime.settings import get_settings

    return get_settings()


def topology() -> list[Subscription]:
    """Every subscription queue of every service, read off the service classes: what `broker setup` declares."""
    from services.runtime.broker import subscriptions_of

    return [s for e in SERVICES.values() for s in subscriptions_of(e.load())]


def known_dead_letter_queues() -> list[str]:
    return sorted(s.dead_letter_queue for s in topology())


# Typer reads the token from the environment too, so it stays out of shell history and `ps`.
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="HOCBA_TOKEN",
        show_default=False,
        help="Your operator bearer token from the identity provider (development: `hocba token --role operator "
        "--user YOU`); its subject is recorded in the audit log",
    ),
]


def _operator(token: str | None) -> str:
    """The verified operator's user id, from their token; exit 2 without one, or with another role's."""
    from services.runtime.auth import AuthError, AuthNotConfigured, Role, verify_token

    if not token:
        err.print(
            "[red]replay and purge need an operator token[/red]: pass --token or set HOCBA_TOKEN "
            "(development: `hocba token --role operator --user YOU`)"
        )
        raise typer.Exit(2)
    try:
        principal = verify_token(_settings(), token)
        principal.require_role(Role.OPERATOR)
    except AuthNotConfigured as error:
        err.print(f"[red]cannot check the token: {error}[/red]")
        raise typer.Exit(2) from None
    except AuthError as error:
        err.print(f"[red]token refused ({error.title}): {error.detail_vi}[/red]")
        raise typer.Exit(2) from None
    return principal.user_id


def _age(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return f"{int(seconds)}s ago"


def _history(history: list[dict[str, str]]) -> str:
    """One line per attempt: number, time, exception class (short) and its scrubbed message."""
    if not history:
        return "—"
    return "\n".join(
        f"#{h.get('attempt', '?')} {h.get('at', '?')} {h.get('error', '?').rsplit('.', 1)[-1]}: {h.get('detail', '')}"
        for h in history
    )


def _check_queue(queue: str) -> None:
    from services.runtime.dlq import UnknownDeadLetterQueue, home_queue

    try:
        home_queue(queue, topology())
    except UnknownDeadLetterQueue as error:
        err.print(f"[red]{escape(str(error))}[/red]; `hocba dlq list` shows the dead-letter queues")
        raise typer.Exit(2) from None


@app.command("list")
def list_queues() -> None:
    """Per dead-letter queue: how many messages, the oldest, the most frequent reasons."""
    from services.runtime.dlq import summarise

    table = Table(title="dead-letter queues")
    for column in ("queue", "messages", "oldest", "top reasons"):
        table.add_column(column, overflow="fold")
    for summary in summarise(_settings().amqp_uri, known_dead_letter_queues()):
        reasons = escape(", ".join(f"{r} ×{n}" for r, n in summary.reasons.most_common(3)) or "—")
        style = "bold red" if summary.count else "green"
        table.add_row(summary.queue, f"[{style}]{summary.count}[/{style}]", _age(summary.oldest), reasons)
    out.print(table)


@app.command("show")
def show(queue: str, limit: Annotated[int, typer.Option(help="Messages to show")] = 10) -> None:
    """Headers, reason and payload of the first messages (personal fields masked); nothing is removed."""
    from services.runtime.dlq import show as show_letters

    _check_queue(queue)
    letters = show_letters(_settings().amqp_uri, queue, limit)
    if not letters:
        out.print(f"{queue}: empty")
    for letter in letters:
        # Headers and body are whatever the publisher wrote: shown as text, never as rich markup.
        table = Table(title=escape(f"{letter.message_id or 'no id'}"), show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        table.add_row("failed queue", escape(str(letter.failed_queue)))
        table.add_row("reason", escape(letter.reason))
        table.add_row("detail", escape(letter.detail or "—"))
        table.add_row("failed", _age(letter.failed_at))
        table.add_row("attempts", str(letter.attempts or "—"))
        table.add_row("history", escape(_history(letter.history)))
        table.add_row("replays", str(letter.replays))
        table.add_row(
            "payload", escape(json.dumps(letter.masked_body(), ensure_ascii=False, indent=1)[:3000])
        )
        out.print(table)


@app.command("replay")
def replay(
    queue: str,
    message_id: Annotated[str | None, typer.Option("--id", help="Replay only this message id")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every message")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be replayed, change nothing")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Replay even messages that already failed after --max-replays")
    ] = False,
    max_replays: Annotated[int, typer.Option(help="Refuse messages replayed this often")] = 3,
    token: TokenOption = None,
) -> None:
    """Republish to the queue this DLQ belongs to (QUEUE without `.dlq`; not the exchange: other subscribers are
    done). A message whose headers name another queue stays in the DLQ and the exit status is 1."""
    from services.runtime.dlq import QueueNotDeclared, broker_audit
    from services.runtime.dlq import replay as replay_letters

    _check_queue(queue)
    if (message_id is None) == (not replay_all):
        err.print("[red]say which: --id ID or --all[/red]")
        raise typer.Exit(2)
    actor = _operator(token)
    uri = _settings().amqp_uri
    try:
        result = replay_letters(
            uri,
            queue,
            topology=topology(),
            message_id=message_id,
            dry_run=dry_run,
            force=force,
            max_replays=max_replays,
            actor=actor,
            audit=None if dry_run else broker_audit(uri),
        )
    except QueueNotDeclared as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    verb = "would replay" if dry_run else "replayed"
    out.print(
        f"{verb} {len(result.replayed)} to {result.target}; refused {len(result.refused)} "
        f"(failed ≥ {max_replays} times, use --force); left {len(result.misplaced)} naming another queue"
    )
    for label in result.refused:
        out.print(f"  refused: {escape(label)}")
    for label, named in result.misplaced:
        claim = escape(repr(named))
        err.print(
            f"[red]  left in {queue}: {escape(label)} says it failed in {claim}, not {result.target!r} "
            "(planted or misrouted; look with `hocba dlq show`)[/red]"
        )
    if message_id is not None and not (result.replayed or result.refused or result.misplaced):
        err.print(f"[red]no message with id {escape(message_id)} in {queue}[/red]")
        raise typer.Exit(1)
    if result.misplaced:
        raise typer.Exit(1)


@app.command("purge")
def purge(
    queue: str,
    older_than: Annotated[
        str, typer.Option(help="Delete messages that failed longer ago than this: 7d, 12h, 30m")
    ],
    token: TokenOption = None,
) -> None:
    """Delete old dead letters (after they were looked at), keeping newer ones."""
    from services.runtime.dlq import broker_audit, parse_age, purge_older_than

    _check_queue(queue)
    try:
        age = parse_age(older_than)
    except ValueError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    actor = _operator(token)
    uri = _settings().amqp_uri
    deleted = purge_older_than(uri, queue, age, topology=topology(), actor=actor, audit=broker_audit(uri))
    out.print(f"deleted {deleted} message(s) older than {older_than} from {queue}")
