"""`hocba bench peak` at a tiny size: the whole pipeline on its own stack, the baseline in the same run, a projection."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _CHECKOUT
from tests.helpers import own_ports

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 2000 + int(_CHECKOUT, 16) % 500  # names the bench's own vhost and databases


def test_bench_peak_reports_stages_a_ratio_against_bare_signing_and_a_projection(tmp_path):
    plot = tmp_path / "peak.png"
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
    for stage in ("marks", "assembled", "signed", "sealed", "accepted"):
        assert result["stages"][stage]["records"] == 2
        assert result["stages"][stage]["records_per_s"] > 0
    assert result["end_to_end"]["records_per_s"] > 0
    assert result["signatures"] == 2 * 15  # 14 people and the seal per grade-8 record, on both sides
    assert result["ratio"] > 0
    assert result["projection"]["cores_from_cpu"] >= 1
    assert {p["kind"] for p in result["processes"]} >= {"service", "relay", "postgres"}
    assert plot.stat().st_size > 10_000
