"""`hocba up`: every service and relay in its own process; Ctrl-C stops them all cleanly."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cli.registry import SERVICES
from services.runtime.broker import subscriptions_of
from tests.conftest import _CHECKOUT, RUN
from tests.helpers import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OFFSET = 1100 + int(_CHECKOUT, 16) % 700  # two checkouts testing at once do not share ports


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_runs_every_service_and_ctrl_c_stops_them_all(amqp_uri, broker_vhost, service_databases):
    env = {**os.environ, "HOCBA_PORT_OFFSET": str(OFFSET)}
    # As `make setup` does before: the topology, and a broker user per service and relay (this run's, deleted at
    # its end) that `hocba up` logs each process in as.
    subprocess.run(
        [sys.executable, "-m", "cli.main", "broker", "setup"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
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
        # Every consumer is connected, each as its own user: none as the administrator the tests' URI names.
        consumers = {f"{RUN}_{s.service}" for e in SERVICES.values() for s in subscriptions_of(e.load())}
        wait_for(
            lambda: consumers <= connected_users(broker_vhost),
            timeout=60,
            what=f"{sorted(consumers)} connected",
        )
        assert connected_users(broker_vhost) <= {f"{RUN}_{n}" for n in SERVICES} | {
            f"{RUN}_{n}-relay" for n in SERVICES
        }
        children = subprocess.run(["pgrep", "-P", str(up.pid)], capture_output=True, text=True).stdout.split()
        # One service and one relay process each and this stack's development token issuer, told apart by their
        # command lines (counting what answers on the stand-ins' ports raced with other stacks on the machine);
        # the TSA/CRL server, remote signer and gateway are started unless another stack already serves them.
        modules = [_module(pid) for pid in children]
        assert sorted(m for m in modules if m.startswith("cli.main")) == sorted(
            f"cli.main {kind} {name}" for name in SERVICES for kind in ("run", "relay")
        )
        stand_ins = [m for m in modules if not m.startswith("cli.main")]
        assert "sandbox.issuer" in stand_ins
        assert set(stand_ins) <= {
            "sandbox.issuer",
            "sandbox.pki.animator",
            "sandbox.remote_signer",
            "sandbox.gateway",
        }
        assert len(stand_ins) == len(set(stand_ins))
        up.send_signal(signal.SIGINT)
        assert up.wait(120) == 0  # stop_stack gives the children 20 s, then kills; a loaded machine is slow
    finally:
        if up.poll() is None:
            up.kill()
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
    assert not any(ready(port) for port in ports)


def connected_users(vhost: str) -> set[str]:
    """Who is logged in to ``vhost`` right now (the management API)."""
    connections = httpx.get(
        f"http://127.0.0.1:15672/api/vhosts/{vhost}/connections", auth=("guest", "guest"), timeout=10
    ).json()
    return {c["user"] for c in connections}


def _module(pid: str) -> str:
    """``cli.main run gradebook``, ``sandbox.issuer``…: what ``python -m`` runs in process ``pid``."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    module = args[args.index("-m") + 1]
    return " ".join(args[args.index("-m") + 1 : args.index("-m") + 4]) if module == "cli.main" else module
