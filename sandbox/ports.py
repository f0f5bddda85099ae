"""Local ports: whether something already answers on one, and a free one to listen on."""

from __future__ import annotations

import socket


def answers(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """Whether a TCP connection to ``host:port`` is accepted (a stack, a stand-in, RabbitMQ or PostgreSQL is up)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, chosen by the OS."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
