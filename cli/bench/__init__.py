"""`hocba bench`: each benchmark against a baseline measured in the same run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.bench.peak_mix import DEFAULT_MIX

app = typer.Typer(
    help="Benchmarks (ratios against a baseline measured in the same run).", no_args_is_help=True
)
console = Console(stderr=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print the figures as JSON")]


def _report(result: dict[str, Any], as_json: bool) -> None:
    """The figures as JSON on stdout when asked (the tables went to stderr as the bench ran)."""
    if as_json:
        typer.echo(json.dumps(result))


@app.command("backbone")
def bench_backbone(
    events: Annotated[int, typer.Option(help="Events per pipeline")] = 3000,
    as_json: AsJson = False,
) -> None:
    """Events/s through outbox → relay → broker → inbox consumer, against raw kombu confirming in the same batches."""
    from cli.bench.backbone import run

    _report(run(events, console), as_json)


@app.command("gradebook")
def bench_gradebook(
    classes: Annotated[int, typer.Option(help="Classes in the sample school")] = 40,
    reads: Annotated[int, typer.Option(help="Class-sheet reads")] = 200,
    as_json: AsJson = False,
) -> None:
    """Score writes/s and class-sheet read latency, against a bare SQLAlchemy insert loop."""
    from cli.bench.gradebook import run

    _report(run(classes, reads, console), as_json)


@app.command("audit")
def bench_audit(
    events: Annotated[int, typer.Option(help="Audit events to append")] = 5000,
    schools: Annotated[int, typer.Option(help="Schools (independent chains)")] = 20,
    batch: Annotated[int, typer.Option(help="The baseline's events of one chain per transaction")] = 50,
    as_json: AsJson = False,
) -> None:
    """Audit events/s appended to the hash-chained log, against the same chain appended with plain psycopg (same
    guarantees, 10 at a time like ours): a transaction per event, and BATCH events of a chain per transaction."""
    from cli.bench.audit import run

    _report(run(events, schools, console, batch=batch), as_json)


@app.command("signing")
def bench_signing(
    students: Annotated[int, typer.Option(help="Students in the class")] = 45,
    steps: Annotated[int, typer.Option(help="Teachers' steps to sign per record")] = 3,
    as_json: AsJson = False,
) -> None:
    """Signatures/s of the signing service for a class batch, against a bare pyHanko loop with a cached key."""
    from cli.bench.signing import run

    _report(run(students, steps, console), as_json)


@app.command("peak")
def bench_peak(
    students: Annotated[
        int,
        typer.Option(
            help="Students through the whole pipeline. The default takes some 5 minutes on a 2-core machine "
            "(20 students: 112 s from the first lock to the last acceptance, then ~50 s of baseline); time grows "
            "about linearly (15 PDF signatures per grade-8 record, in order), so a few thousand take hours here"
        ),
    ] = 40,
    schools: Annotated[
        int, typer.Option(help="Schools the students are split over (they sign in parallel)")
    ] = 4,
    workers: Annotated[int, typer.Option(help="Replicas of each service and relay")] = 1,
    grade: Annotated[int, typer.Option(help="8: lower secondary (more signers per record), 5: primary")] = 8,
    plot: Annotated[Path | None, typer.Option(help="Draw stages and backlogs over time to this PNG")] = None,
    offset: Annotated[int, typer.Option(help="HOCBA_PORT_OFFSET of the bench's own stack")] = 200,
    compare: Annotated[
        Path | None,
        typer.Option(help="An earlier run's `--json` output: print the change of every figure against it"),
    ] = None,
    mix: Annotated[
        str,
        typer.Option(
            help="The records the projection is for: name=SIGNATURES:SHARE,… (PDF signatures per record, the seal "
            "included; shares summing to 1). The default: the sample schools' primary (9) and lower-secondary "
            "(15) plans in a Hà Nội-like split (an estimate: pass the Sở's figures)"
        ),
    ] = DEFAULT_MIX,
    as_json: AsJson = False,
) -> None:
    """Records sealed and accepted per second through the whole pipeline, per stage and end to end, on the
    bench's own stack (own databases, vhost and ports); backlogs, CPU and RSS per process; the same signatures
    by a bare pyHanko loop with cached keys in the same run; and the cores Hà Nội's 2.19 million records in 8 h
    would need at the measured rate."""
    from cli.bench.compare import NotAReport, comparison, load, print_comparison
    from cli.bench.peak import run
    from cli.bench.peak_mix import BadMix, parse_mix

    if grade not in (5, 8):
        console.print("[red]--grade is 5 (primary) or 8 (lower secondary)[/red]")
        raise typer.Exit(2)
    try:
        kinds = parse_mix(mix)
    except BadMix as error:
        console.print(f"[red]--mix: {error}[/red]")
        raise typer.Exit(2) from error
    try:
        # Read before the run: a wrong file is said at once, not after minutes of benchmark.
        earlier = load(compare) if compare is not None else None
    except NotAReport as error:
        console.print(f"[red]--compare: {error}[/red]")
        raise typer.Exit(2) from error
    result = run(students, schools, workers, grade, offset, console, plot=plot, mix=kinds)
    if earlier is not None and compare is not None:
        print_comparison(earlier, result, compare, console)
        result["comparison"] = {"with": str(compare), **comparison(earlier, result)}
    _report(result, as_json)


@app.command("transcript")
def bench_transcript(
    students: Annotated[int, typer.Option(help="Students in the class")] = 45,
    as_json: AsJson = False,
) -> None:
    """Year records per second (XML + PDF/A-3) for a class of grade-8 records, against bare lxml (the same XML,
    XSD-validated) and bare fpdf2 (the same values, fonts and page count) in the same run."""
    from cli.bench.transcript import run

    _report(run(students, console), as_json)
