"""`hocba bench peak --compare EARLIER.json`: the figures of this run beside an earlier run's, and the change.

An earlier run is what `hocba bench peak --json` printed (save it: `hocba bench peak --json > before.json`). Runs
of another size, grade or replica count are still compared, with a warning: rates depend on them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

# (what, where in the report, which way is better)
HEADLINE = (
    ("end to end, records/s", ("end_to_end", "records_per_s"), "higher"),
    ("pipeline PDF signatures/s", ("pipeline_signatures_per_s",), "higher"),
    ("bare pyHanko loop, signatures/s (baseline)", ("baseline", "signatures_per_s"), "higher"),
    ("ratio pipeline / baseline, signatures", ("ratio",), "higher"),
    ("ratio pipeline / baseline, end to end", ("ratio_end_to_end",), "higher"),
    ("CPU s per record", ("projection", "cpu_s_per_record"), "lower"),
    ("cores for Hà Nội's peak (from CPU)", ("projection", "cores_from_cpu"), "lower"),
    ("CPU s per record, the --mix", ("projection", "mix", "cpu_s_per_record"), "lower"),
    ("cores for Hà Nội's peak, the --mix", ("projection", "mix", "cores_from_cpu"), "lower"),
)
SETUP = ("students", "schools", "grade", "workers")


class NotAReport(ValueError):
    """The file is not what `hocba bench peak --json` prints."""


@dataclass(frozen=True)
class Change:
    figure: str
    before: float | None
    after: float | None
    better: str  # "higher" or "lower"

    @property
    def percent(self) -> float | None:
        if self.before is None or self.after is None or self.before == 0:
            return None
        return (self.after - self.before) / abs(self.before) * 100

    @property
    def verdict(self) -> str:
        if self.percent is None:
            return "not in both runs"
        if self.percent == 0:
            return "same"
        improved = (self.percent > 0) == (self.better == "higher")
        return "better" if improved else "worse"


def load(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NotAReport(f"{path}: cannot read a bench peak report ({error})") from error
    if not isinstance(report, dict) or not {"end_to_end", "projection", "stages"} <= report.keys():
        raise NotAReport(
            f"{path}: not the JSON of `hocba bench peak --json` (no end_to_end, projection, stages)"
        )
    return report


def _at(report: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def _processes(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in report.get("processes", []) if isinstance(p, dict) and "name" in p}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The headline figures, each stage's rate, and each process's CPU seconds and peak RSS (by name)."""
    rows = [Change(what, _at(before, where), _at(after, where), better) for what, where, better in HEADLINE]
    for stage in after.get("stages", {}) | before.get("stages", {}):
        where = ("stages", stage, "records_per_s")
        rows.append(Change(f"stage {stage}, records/s", _at(before, where), _at(after, where), "higher"))
    was_run, now_run = _processes(before), _processes(after)
    for name in sorted(was_run.keys() | now_run.keys()):
        was, now = was_run.get(name, {}), now_run.get(name, {})
        rows.append(Change(f"{name}: CPU s", was.get("cpu_s"), now.get("cpu_s"), "lower"))
        rows.append(Change(f"{name}: peak RSS MiB", was.get("rss_mib"), now.get("rss_mib"), "lower"))
    return rows


def setup_differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [
        f"{key}: {before.get(key)} then, {after.get(key)} now"
        for key in SETUP
        if before.get(key) != after.get(key)
    ]


def comparison(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What `--json` adds to the report under "comparison"."""
    return {
        "setup_differs": setup_differences(before, after),
        "changes": [
            {**asdict(c), "percent": None if c.percent is None else round(c.percent, 1), "verdict": c.verdict}
            for c in changes(before, after)
        ],
    }


def print_comparison(before: dict[str, Any], after: dict[str, Any], source: Path, console: Console) -> None:
    table = Table(title=f"against the earlier run in {source}")
    for column in ("figure", "before", "now", "change", ""):
        table.add_column(column, justify="left" if column in ("figure", "") else "right")
    colour = {"better": "green", "worse": "red"}
    for c in changes(before, after):
        shown = f"{c.percent:+.1f} %" if c.percent is not None else "—"
        table.add_row(
            c.figure,
            "—" if c.before is None else f"{c.before:g}",
            "—" if c.after is None else f"{c.after:g}",
            shown,
            f"[{colour[c.verdict]}]{c.verdict}[/]" if c.verdict in colour else c.verdict,
        )
    console.print(table)
    for line in setup_differences(before, after):
        console.print(f"[yellow]not the same run size: {line}; rates depend on it[/yellow]")
