"""`hocba up`: every service and relay in its own process; Ctrl-C stops them all cleanly."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest

from cli.registry import SERVICES
from services.runtime.broker import subscriptions_of
from services.runtime.settings import Settings
from tests.conftest import RUN
from tests.helpers import own_ports, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_runs_every_service_and_ctrl_c_stops_them_all(amqp_uri, broker_vhost, service_databases):
    chosen = own_ports()  # from the OS: two runs at once never share one
    env = {**os.environ, **chosen}
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
    ports = [int(chosen[f"HOCBA_PORT_{name.upper()}"]) for name in SERVICES]
    try:
        for port in ports:
            wait_for(lambda p=port: ready(p), timeout=60, interval=0.3, what=f"service on port {port}")
        # The audit service and its relay log in as the writer role, never as the log's owner.
        audit_db = service_databases["audit"].rsplit("/", 1)[1]
        wait_for(
            lambda: _logins(audit_db) == {("audit", WRITER), ("audit-relay", WRITER)},
            timeout=30,
            interval=0.3,
            what="the audit processes' logins",
        )
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
        # One service and one relay process each and this stack's own stand-ins (development token issuer, remote
        # signer, gateway), told apart by their command lines; the test PKI's TSA/CRL server, at the one address its
        # certificates name, is started unless another stack on the machine already serves it.
        modules = [_module(pid) for pid in children]
        assert sorted(m for m in modules if m.startswith("cli.main")) == sorted(
            f"cli.main {kind} {name}" for name in SERVICES for kind in ("run", "relay")
        )
        stand_ins = sorted(m for m in modules if not m.startswith("cli.main") and m != "sandbox.pki.animator")
        assert stand_ins == ["sandbox.gateway", "sandbox.issuer", "sandbox.remote_signer"]
        assert modules.count("sandbox.pki.animator") <= 1
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


WRITER = Settings().audit_db_role


def _logins(database: str) -> set[tuple[str, str]]:
    """(application, role) of every connection to ``database`` but this one."""
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
        rows = conn.execute(
            "select application_name, usename from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            [database],
        )
        return {(str(a), str(u)) for a, u in rows}
