"""Cooperative I/O: eventlet monkey patching plus the psycopg 3 wait function that yields to the hub."""

from __future__ import annotations

import os
import warnings

# eventlet warns on import that it is in bugfix-only mode; the risk is recorded in the architecture notes.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

_patched = False


def patch() -> None:
    """Monkey-patch for eventlet, then make psycopg 3 wait through green ``select``.

    psycopg >= 3.1.5 waits in a C function (``wait_c``) that monkey patching cannot reach, so one
    slow query would freeze every green thread of the service (measured: 10 × pg_sleep(0.5) take
    5.1 s blocked, 0.56 s with ``wait_select``). Must run before anything imports psycopg.
    """
    global _patched
    if _patched:
        return
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    with warnings.catch_warnings():
        # eventlet warns at import that it is in bugfix-only mode; the risk is recorded in the architecture notes.
        warnings.simplefilter("ignore")
        import eventlet

    eventlet.monkey_patch()
    import psycopg.waiting

    psycopg.waiting.wait = psycopg.waiting.wait_select
    _patched = True


def psycopg_is_green() -> bool:
    """True when psycopg will yield to the eventlet hub while it waits on the server."""
    import psycopg.waiting

    return psycopg.waiting.wait is psycopg.waiting.wait_select
