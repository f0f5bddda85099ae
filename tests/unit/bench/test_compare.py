"""`hocba bench peak --compare`: each figure against an earlier run's, which way is better, and refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from cli.bench.compare import NotAReport, changes, comparison, load, print_comparison
from tests.factories import BENCH_PEAK_BEFORE_ISSUE_19


def report(**over: object) -> dict:
    return {**BENCH_PEAK_BEFORE_ISSUE_19, **over}


def by_figure(before: dict, after: dict) -> dict:
    return {c.figure: c for c in changes(before, after)}


def test_each_figure_knows_which_way_is_better() -> None:
    after = report(
        projection={"cpu_s_per_record": 1.015, "cores_from_cpu": 78},
        ratio=0.59,
        processes=[{"name": "signing", "cpu_s": 50.0, "rss_mib": 191}],
    )
    rows = by_figure(report(), after)
    cpu = rows["CPU s per record"]
    assert (cpu.before, cpu.after, round(cpu.percent or 0, 1), cpu.verdict) == (2.03, 1.015, -50.0, "better")
    assert rows["ratio pipeline / baseline, signatures"].verdict == "same"
    assert rows["signing: CPU s"].verdict == "worse"
    assert rows["stage sealed, records/s"].verdict == "same"


def test_a_process_or_stage_in_one_run_only_is_shown_not_compared() -> None:
    after = report(processes=[{"name": "signing-1", "cpu_s": 20.0, "rss_mib": 150}])
    rows = by_figure(report(), after)
    assert rows["signing: CPU s"].after is None and rows["signing: CPU s"].verdict == "not in both runs"
    assert rows["signing-1: CPU s"].before is None


def test_a_run_of_another_size_is_compared_with_a_warning() -> None:
    result = comparison(report(), report(students=2, schools=1))
    assert result["setup_differs"] == ["students: 40 then, 2 now", "schools: 4 then, 1 now"]
    out = io.StringIO()
    print_comparison(report(), report(students=2), Path("before.json"), Console(file=out, width=200))
    assert "not the same run size: students: 40 then, 2 now" in out.getvalue()
    assert "CPU s per record" in out.getvalue()


def test_a_file_that_is_not_a_report_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps({"events_per_s": 399}))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(NotAReport, match="not the JSON of `hocba bench peak --json`"):
        load(tmp_path / "other.json")
    with pytest.raises(NotAReport, match="cannot read"):
        load(tmp_path / "broken.json")
    with pytest.raises(NotAReport, match="cannot read"):
        load(tmp_path / "missing.json")
    (tmp_path / "good.json").write_text(json.dumps(report()))
    assert load(tmp_path / "good.json")["ratio"] == 0.59


def test_the_command_refuses_a_wrong_file_before_the_run_starts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    (tmp_path / "backbone.json").write_text(json.dumps({"events_per_s": 399}))
    result = CliRunner().invoke(app, ["bench", "peak", "--compare", str(tmp_path / "backbone.json")])
    assert result.exit_code == 2, result.output
    assert "not the JSON of `hocba bench peak --json`" in " ".join(result.output.split())  # rich wraps
