"""`hocba up`: every service and relay in its own process; Ctrl-C stops them all cleanly."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cli.registry import SERVICES
from tests.conftest import _CHECKOUT
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 1100 + int(_CHECKOUT, 16) % 700  # two checkouts testing at once do not share ports


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_runs_every_service_and_ctrl_c_stops_them_all(service_databases):
    env = {**os.environ, "HOCBA_PORT_OFFSET": str(OFFSET)}
    answered_before = {port: _answers(port) for port in (9797, 9898, 8700)}
    up = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ports = [s.base_port + OFFSET for s in SERVICES.values()]
    try:
        for port in ports:
            wait_for(lambda p=port: ready(p), timeout=60, interval=0.3, what=f"service on port {port}")
        children = subprocess.run(["pgrep", "-P", str(up.pid)], capture_output=True, text=True).stdout.split()
        # One service and one relay process each, plus the sandbox's TSA/CRL server and remote signer unless
        # another stack on this machine already serves them, and this stack's development token issuer.
        sandbox = sum(1 for port in (9797, 9898, 8700) if not answered_before[port]) + 1
        assert len(children) == 2 * len(SERVICES) + sandbox
        up.send_signal(signal.SIGINT)
        assert up.wait(40) == 0
    finally:
        if up.poll() is None:
            up.kill()
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
    assert not any(ready(port) for port in ports)


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0
