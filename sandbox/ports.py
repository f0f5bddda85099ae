"""Local ports: whether something already answers on one, and free ones to listen on.

A port the OS hands out (``bind(("127.0.0.1", 0))``) is free only at that instant: a stack whose processes take
ten seconds or more to start and bind may find it taken by then, by another test process asking the OS for a port
(the OS picks at random in its ephemeral range) or by an outgoing connection. `free_ports` therefore picks below
the ephemeral range, where the OS never hands out a port, and reserves each one for the life of the process that
asked, with a lock on its byte of one lock file shared by every process on this machine: no other caller of
`free_ports` (another test process, another checkout's run) is handed it while this one lives, and the lock goes
with the process however it ends.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path

_LOCKS = Path(tempfile.gettempdir()) / "hocba-ports.lock"
_LOWEST = 20000  # above the well-known ports and the platform's default ones (8001…, 9797, 15672)
_reserved: set[int] = set()  # a process's POSIX locks do not exclude the process itself
_lock_file: int | None = None  # kept open: closing any descriptor of the file drops all this process's locks


def answers(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """Whether a TCP connection to ``host:port`` is accepted (a stack, a stand-in, RabbitMQ or PostgreSQL is up)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, reserved for this process (see `free_ports`)."""
    [port] = free_ports(1)
    return port


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports on 127.0.0.1 that nothing is bound to, below the OS's ephemeral range and reserved for
    this process's life, so that the processes it starts can bind them however long they take to start."""
    candidates = list(range(_LOWEST, _ephemeral_low()))
    random.shuffle(candidates)  # two runs starting together do not contend for the same few
    ports: list[int] = []
    for port in candidates:
        if len(ports) == n:
            return ports
        if port not in _reserved and _lock(port) and _unbound(port):
            _reserved.add(port)
            ports.append(port)
    if len(ports) == n:
        return ports
    raise RuntimeError(f"no {n} free ports between {_LOWEST} and {_ephemeral_low()} on this machine")


def _ephemeral_low() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    return max(low, _LOWEST + 1000)


def _lock(port: int) -> bool:
    global _lock_file
    if _lock_file is None:
        _lock_file = os.open(_LOCKS, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.lockf(_lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
    except OSError:
        return False  # another process holds it
    return True


def _unbound(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
