"""`hocba bench peak` at a tiny size: the whole pipeline on its own stack, the baseline in the same run, a projection."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest import approx

from cli.bench.peak_sampler import ENDED_WHOLE_SERVER, INTERVAL, PLATFORM, STAGES
from tests.conftest import _CHECKOUT
from tests.factories import BENCH_PEAK_BEFORE_ISSUE_19
from tests.helpers import own_ports

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 2000 + int(_CHECKOUT, 16) % 500  # names the bench's own vhost and databases


def test_bench_peak_reports_stages_a_ratio_against_bare_signing_and_a_projection(tmp_path):
    plot = tmp_path / "peak.png"
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(BENCH_PEAK_BEFORE_ISSUE_19))  # compared with it: `--compare`
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "bench",
            "peak",
            "--students",
            "2",
            "--schools",
            "1",
            "--offset",
            str(OFFSET),
            "--plot",
            str(plot),
            "--compare",
            str(earlier),
            "--json",
        ],
        cwd=ROOT,
        env={**os.environ, **own_ports()},  # its ports from the OS; the offset names its vhost and databases
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["accepted"] == 2
    assert result["signatures"] == 2 * 15  # 14 people and the seal per grade-8 record, on both sides
    assert_the_report_is_consistent(result)
    assert result["projection"]["cores_from_cpu"] >= 1
    assert {p["kind"] for p in result["processes"]} >= {"service", "relay", "postgres"}
    kinds = {p["name"]: p["kind"] for p in result["processes"]}
    assert kinds.get("postgres gateway", "stand-in") == "stand-in"  # the stand-in's database is not ours
    # Ours counted backend by backend (those that ended too); the whole server's ended backends only listed.
    assert kinds[ENDED_WHOLE_SERVER] == "other" and "other" not in PLATFORM
    assert kinds["postgres signing"] == "postgres"
    # CPU per record leaves out what the idle stack spends answering the bench's own polling (measured first).
    projection = result["projection"]
    assert projection["idle_and_polling_cpu_s"] > 0
    assert projection["platform_cpu_s"] == approx(
        projection["measured_cpu_s"] - projection["idle_and_polling_cpu_s"], abs=0.11
    )
    assert projection["cpu_s_per_record"] == approx(projection["platform_cpu_s"] / 2, abs=0.051)
    # The mix (the default --mix): signing's CPU per signature and the rest per record give back the grade-8 figure
    # for a grade-8 record, and the mix's CPU per record is the share-weighted sum over its kinds.
    mix = projection["mix"]
    assert {k["name"]: k["signatures"] for k in mix["kinds"]} == {"primary": 9, "secondary": 15}
    assert mix["signing_cpu_s_per_signature"] > 0 and mix["cpu_s_per_record_outside_signing"] > 0
    assert mix["cpu_s_per_kind"]["secondary"] == approx(projection["cpu_s_per_record"], abs=0.006)
    assert mix["cpu_s_per_record"] == approx(
        sum(k["share"] * mix["cpu_s_per_kind"][k["name"]] for k in mix["kinds"]), abs=0.006
    )
    assert mix["cpu_s_per_record"] < projection["cpu_s_per_record"]
    assert mix["cores_from_cpu"] <= projection["cores_from_cpu"]
    assert "For a mix of records" in done.stdout
    assert plot.stat().st_size > 10_000
    # Against the earlier run: its figure, this run's, and the warning that the runs differ in size.
    compared = {c["figure"]: c for c in result["comparison"]["changes"]}
    cpu = compared["CPU s per record"]
    assert (cpu["before"], cpu["after"]) == (2.03, projection["cpu_s_per_record"])
    assert "students: 40 then, 2 now" in result["comparison"]["setup_differs"]
    assert "against the earlier run in" in done.stderr and "CPU s per record" in done.stderr


def assert_the_report_is_consistent(result: dict) -> None:
    """Relations that hold however fast or slow the machine is: every record went through every stage, each rate
    is the count over its window, the ratios are the reported rates divided, and the whole run is no faster than
    its slowest stage. Tolerances are the report's own rounding (windows to 0.1 s, rates to 2 or 3 decimals)."""
    stages, wall = result["stages"], result["wall_s"]
    assert list(stages) == [name for name, _ in STAGES]
    for name, stage in stages.items():
        assert stage["records"] == result["students"] == 2, name
        assert stage["window_s"] >= INTERVAL, name
        assert stage["window_s"] == approx(max(INTERVAL, stage["last_s"] - stage["first_s"]), abs=0.16), name
        assert stage["records_per_s"] == approx(stage["records"] / stage["window_s"], abs=0.0051), name
    e2e = result["end_to_end"]["records_per_s"]
    assert e2e > 0 and e2e == approx(
        result["accepted"] / wall, abs=_rounded(result["accepted"] / wall, wall, 5e-4)
    )
    # End to end is no faster than its slowest stage after the lock: each lies inside the run (first lock to last
    # accepted), except that its window may begin at the last sample before it started, an interval early.
    slowest = min(stages[name]["records_per_s"] for name in ("assembled", "signed", "sealed", "accepted"))
    assert e2e <= (slowest + 0.005) * (wall + 2 * INTERVAL) / wall, (e2e, stages, wall)
    # The pipeline's signatures per second are counted from the first assembly to the last seal.
    signing_window = stages["sealed"]["last_s"] - stages["assembled"]["first_s"]
    pipeline = result["pipeline_signatures_per_s"]
    assert pipeline == approx(
        result["signatures"] / signing_window,
        abs=_rounded(result["signatures"] / signing_window, signing_window, 0.005, 0.1),
    )
    baseline = result["baseline"]
    assert baseline["signatures_per_s"] > 0 and baseline["seconds"] > 0
    assert baseline["records_per_s"] == approx(
        2 / baseline["seconds"], abs=_rounded(2 / baseline["seconds"], baseline["seconds"], 5e-4)
    )
    # The ratios are the reported rates divided (each rounded: the tolerance adds up their rounding errors).
    assert result["ratio"] > 0
    ratio = pipeline / baseline["signatures_per_s"]
    assert result["ratio"] == approx(
        ratio, abs=ratio * (0.005 / pipeline + 0.005 / baseline["signatures_per_s"]) + 0.006
    )
    ratio_e2e = e2e / baseline["records_per_s"]
    assert result["ratio_end_to_end"] == approx(
        ratio_e2e, abs=ratio_e2e * (5e-4 / e2e + 5e-4 / baseline["records_per_s"]) + 0.006
    )


def _rounded(rate: float, seconds: float, rate_step: float, seconds_error: float = 0.05) -> float:
    """How far a rate can be from the count over the reported seconds: the seconds were rounded (off by up to
    ``seconds_error``) and so was the rate (by up to ``rate_step``); a little more for floating point."""
    return rate * seconds_error / (seconds - seconds_error) + rate_step + 1e-9
