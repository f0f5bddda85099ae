"""`hocba verify serve`: the public verification page under gunicorn, a pool of workers each bounded in memory and time.

The page takes unauthenticated uploads, so one request must never take the service down: each worker is a process
with an address-space limit (RLIMIT_AS, so its RSS stays under it), each verification has a deadline (SIGALRM in the
worker, answered in Vietnamese) and a decode budget (:mod:`.limits`); gunicorn's own timeout kills a worker stuck in
C code past the deadline, and ``max_requests`` recycles workers so no slow growth accumulates. The master replaces
any worker that dies, and the others keep answering meanwhile.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from gunicorn.app.base import BaseApplication

from services.signing.verifier.limits import DEFAULT_BUDGET, Budget, MiB
from services.signing.verifier.web import VerifierApp


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8090  # 0: a port from the OS (the tests); the real one is printed when ready
    workers: int = 2
    memory_mb: int = 512  # per worker, address space: bounds the RSS too
    time_limit: float = 20.0  # seconds per verification; a học bạ takes well under one
    budget: Budget = DEFAULT_BUDGET
    max_requests: int = 500  # then the worker is replaced (with jitter, so not all at once)
    online: bool = False


def _retire() -> None:
    # gunicorn's sync worker takes SIGTERM as "finish this request, then exit"; the master starts a fresh one.
    os.kill(os.getpid(), signal.SIGTERM)


def _limit_memory(limit: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard if hard != resource.RLIM_INFINITY else cap))


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, app: VerifierApp, settings: dict[str, Any]) -> None:
        self.application = app
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self) -> VerifierApp:
        return self.application


def settings(options: ServeOptions) -> dict[str, Any]:
    """gunicorn's configuration for ``options`` (the hooks included), as `hocba verify serve` runs it."""
    memory = options.memory_mb * MiB

    def post_fork(server: Any, worker: Any) -> None:
        _limit_memory(memory)

    def when_ready(server: Any) -> None:
        # The bound address, so that port 0 is usable: the tests read this line.
        for listener in server.LISTENERS:
            print(
                f"verification page on {listener}/ ({options.workers} worker{'s' if options.workers != 1 else ''}, "
                f"{options.memory_mb} MiB and "
                f"{options.time_limit:g} s each; Ctrl-C stops)",
                file=sys.stderr,
                flush=True,
            )

    return {
        "bind": [f"{options.host}:{options.port}"],
        "workers": options.workers,
        "worker_class": "sync",
        # A backstop for a worker stuck where SIGALRM cannot reach (inside one C call): killed and replaced.
        "timeout": int(options.time_limit) + 15,
        "graceful_timeout": 10,
        "max_requests": options.max_requests,
        "max_requests_jitter": max(1, options.max_requests // 10),
        "preload_app": True,
        "post_fork": post_fork,
        "when_ready": when_ready,
        "proc_name": "hocba-verifier",
        # One path per user by default (~/.gunicorn/gunicorn.ctl): two verifiers on a host would fight over it,
        # and nothing here manages workers at run time.
        "control_socket_disable": True,
    }


def serve(trust_roots: Sequence[asn1_x509.Certificate], options: ServeOptions) -> None:
    """Run the verification page until SIGTERM/SIGINT (gunicorn's master in this process)."""
    app = VerifierApp(
        trust_roots,
        online=options.online,
        budget=options.budget,
        time_limit=options.time_limit,
        retire=_retire,
    )
    _Gunicorn(app, settings(options)).run()
