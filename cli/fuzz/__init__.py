"""`hocba fuzz`: the operators' long schemathesis run against `hocba up`, with a school seeded through the APIs."""

# seed.py puts the school in through the APIs; run.py generates requests per operation and checks each answer.
# tests/integration/test_fuzz_apis.py is the bounded run in `make test`.

from __future__ import annotations

import time

import httpx
from rich.console import Console
from rich.table import Table

from cli.fuzz.run import SERVICES, OperationReport, Report, fuzz
from cli.fuzz.seed import seed_school
from cli.registry import dev_token, local_url
from services.runtime import http_client


def wait_for_signing(urls: dict[str, str], school_id: str, record: str, seconds: float) -> bool:
    """Whether signing knows the digitised year yet (transcript's event reaches it through the relay)."""
    headers = {"Authorization": f"Bearer {dev_token('fuzz-ht', ['principal'], school_id)}"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (
            http_client.get(
                f"{urls['signing']}/records/{record}/xml", headers=headers, timeout=30
            ).status_code
            != 404
        ):
            return True
        time.sleep(1)
    return False


def run_against_stack(
    console: Console, examples: int, seed: int, services: tuple[str, ...] = SERVICES
) -> Report:
    """Seed a school into the local stack (`hocba up`) and fuzz ``services``, printing each operation's answers."""
    urls = {name: local_url(name) for name in SERVICES}
    down = [name for name in SERVICES if not _answers(urls[name])]
    if down:
        raise SystemExit(
            f"{', '.join(down)} not answering at {', '.join(urls[n] for n in down)}: run `hocba up`"
        )
    seeds = seed_school(urls, dev_token)
    for note in seeds.notes:
        console.print(f"[yellow]{note}[/yellow]")
    record = seeds.values["record_id"][0]
    if not wait_for_signing(urls, seeds.school_id, record, 60):
        console.print(
            "[yellow]signing has not received the digitised year: its record routes will see 404s[/yellow]"
        )
    console.print(
        f"seeded {seeds.school_id}: {', '.join(f'{k}={v}' for k, v in sorted(seeds.values.items()))}"
    )

    def progress(op: OperationReport) -> None:
        statuses = " ".join(f"{s}×{n}" for s, n in sorted(op.statuses.items()))
        mark = "[red]✗[/red]" if op.failures else "✓"
        console.print(f"{mark} {op.service:10} {op.label:70} {op.examples:4} {statuses}")

    report = fuzz(
        urls, seeds, dev_token, max_examples=examples, seed=seed, services=services, progress=progress
    )
    table = Table(title="hocba fuzz")
    for column in ("operations", "examples", "server errors", "other failures", "only 404", "seconds"):
        table.add_column(column)
    summary = report.summary()
    table.add_row(
        str(summary["operations"]),
        str(summary["examples"]),
        str(summary["server_errors"]),
        str(summary["failures"] - summary["server_errors"]),
        str(len(summary["only_404"])),
        str(summary["seconds"]),
    )
    console.print(table)
    for failure in report.failures:
        console.print(f"[red]{failure}[/red]")
    if summary["dependency_answers"]:
        console.print(f"dependency down or not set up (502/503 problems): {summary['dependency_answers']}")
    return report


def _answers(url: str) -> bool:
    try:
        return http_client.get(f"{url}/healthz", timeout=5).status_code < 500
    except httpx.HTTPError:
        return False
