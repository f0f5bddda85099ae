"""Run pyHanko's coroutines from our synchronous (eventlet) code, one at a time per process.

asyncio keeps "the running loop" per OS thread, and all green threads share one: if two greenlets were each
inside ``asyncio.run`` and one yielded (a TSA request on a green socket), the other would find a loop running
and fail. The lock makes them take turns; signing is CPU-bound anyway, and replicas add throughput.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_turn = threading.Lock()  # green under eventlet's patching, so a waiting greenlet yields


def run(coro: Coroutine[Any, Any, T]) -> T:
    with _turn:
        return asyncio.run(coro)
