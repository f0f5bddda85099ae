"""Run pyHanko's coroutines from our synchronous (eventlet) code, one at a time per process (see runtime)."""

from services.runtime.timestamps import run

__all__ = ["run"]
