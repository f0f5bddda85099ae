"""`hocba verify serve` as its own process (gunicorn, a port from the OS), the way an operator runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import wait_for

READY = re.compile(r"verification page on (http://\S+/)")


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def workers(self) -> list[int]:
        """The worker processes' ids now (gunicorn's master forks them after it prints its address)."""
        pid = self.process.pid
        return sorted(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())

    def wait_for_workers(self, count: int) -> list[int]:
        return wait_for(lambda: len(self.workers()) == count and self.workers(), what=f"{count} workers")


@contextmanager
def verifier_server(*args: str, command: list[str] | None = None) -> Iterator[Served]:
    """The server on port 0; yields once it printed the address it bound (then the master forks its workers).

    ``command`` runs something else that prints the same line (a test's own ServeOptions) instead of the CLI.
    """
    with tempfile.TemporaryDirectory(prefix="verifier-") as folder:
        log = Path(folder) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command or [sys.executable, "-m", "cli.main", "verify", "serve", "--port", "0", *args],
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:

            def ready() -> str | None:
                if process.poll() is not None:
                    raise AssertionError(f"verify serve exited {process.returncode}:\n{log.read_text()}")
                found = READY.search(log.read_text(errors="replace"))
                return found.group(1) if found else None

            url = wait_for(ready, timeout=60, interval=0.1, what="verify serve to listen")
            yield Served(url, process, log)
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
