"""The ports a test reserves for a stack it starts: never ones the OS may hand to another process meanwhile, never
ones another process on this machine holds, and held only while the reserving process lives."""

import hashlib
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import sandbox.ports as ports

ROOT = Path(__file__).resolve().parents[3]
# Ten ports of this checkout's own below the range free_ports picks from, so that no other test process holds one.
LOWEST = 16000 + int(hashlib.sha256(str(ROOT).encode()).hexdigest()[:6], 16) % 300 * 10


def _ephemeral_range() -> tuple[int, int]:
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def test_reserved_ports_are_free_distinct_and_below_the_range_the_os_hands_out():
    chosen = ports.free_ports(20)
    assert len(set(chosen)) == 20
    assert all(20000 <= port < _ephemeral_range()[0] for port in chosen)
    for port in chosen:  # nothing is bound to them: a stack's process can listen there
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    assert not set(ports.free_ports(20)) & set(chosen)  # this process is not handed them twice


def test_another_process_is_never_handed_a_port_this_one_holds_until_it_exits(monkeypatch):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, sandbox.ports as p\n"
            f"p._LOWEST = {LOWEST}\n"
            f"p._ephemeral_low = lambda: {LOWEST + 10}\n"
            "print(*p.free_ports(6), flush=True)\n"
            "sys.stdin.read()\n",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        held = {int(port) for port in holder.stdout.readline().split()}  # type: ignore[union-attr]
        assert len(held) == 6
        monkeypatch.setattr(ports, "_LOWEST", LOWEST)
        monkeypatch.setattr(ports, "_ephemeral_low", lambda: LOWEST + 10)
        monkeypatch.setattr(ports, "_reserved", set())
        mine = set(ports.free_ports(4))
        assert mine == set(range(LOWEST, LOWEST + 10)) - held
        with pytest.raises(RuntimeError, match="no 1 free ports"):
            ports.free_ports(1)
    finally:
        holder.communicate("")  # the holder exits: its locks go with it
    assert set(ports.free_ports(6)) == held  # the six this process does not hold already
