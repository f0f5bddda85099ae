"""A process a stack launched dies with what launched it: a test run killed in the middle (or a `hocba up` killed
with SIGKILL) leaves no service, relay or stand-in answering on the machine's ports for the next run to adopt."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cli.registry import SERVICES, STAND_INS
from cli.stack import spawn_stack
from tests.helpers import own_ports, wait_for

ROOT = Path(__file__).resolve().parents[3]
PARENT = """
import sys, time
from cli.stack import launch
child = launch(["http.server", "--bind", "127.0.0.1", "0"], None, {"PATH": "/usr/bin:/bin"})
print(child.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (its parent, killed, cannot reap it until init adopts it).
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def test_a_launched_process_dies_when_its_launcher_is_killed():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)  # no finally, no atexit: only the kernel can clean up
        parent.wait(30)
        wait_for(
            lambda: not _alive(child),
            timeout=30,
            interval=0.1,
            what=f"process {child} to die with its parent",
        )
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_stack_refuses_a_port_something_else_answers_on_instead_of_adopting_it(monkeypatch):
    for name, port in own_ports().items():
        monkeypatch.setenv(name, port)
    with socket.socket() as squatter:  # another stack's gateway, say, on the port this one was given
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        monkeypatch.setenv("HOCBA_PORT_GATEWAY", str(squatter.getsockname()[1]))
        with pytest.raises(SystemExit, match=f"ports {squatter.getsockname()[1]} already answer"):
            spawn_stack(["sync"])


def test_own_ports_are_distinct_and_name_every_service_and_stand_in():
    ports = own_ports()
    assert set(ports) == {f"HOCBA_PORT_{n.upper()}" for n in [*SERVICES, *STAND_INS]}
    assert len(set(ports.values())) == len(ports)
