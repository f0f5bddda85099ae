"""The chaos monkey of the pipeline test: a seeded schedule of SIGKILLs, one broker restart and a gateway fault window,
played from a background thread against a stack spawned by `cli.main.spawn_stack`."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from kombu import Connection

from cli.main import launch, stack_env


def process_name(proc: subprocess.Popen[bytes]) -> str:
    """`run-gradebook`, `relay-sync`, `sandbox.gateway`…: the stack's log name for a process it spawned."""
    args = [str(a) for a in proc.args]  # type: ignore[union-attr]
    module = args[2]
    return "-".join(args[3:5]) if module == "cli.main" else module


class Stack:
    """The spawned processes by name; a killed one is started again with the same command and environment."""

    def __init__(self, procs: list[subprocess.Popen[bytes]], log_dir: Path) -> None:
        self.procs = {process_name(p): p for p in procs}
        self.log_dir = log_dir
        self.killed: dict[str, int] = {}  # name -> return code of the killed process
        self._lock = threading.Lock()

    def all(self) -> list[subprocess.Popen[bytes]]:
        with self._lock:
            return list(self.procs.values())

    def kill(self, name: str) -> None:
        with self._lock:
            proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        self.killed[name] = proc.wait(10)

    def restart(self, name: str) -> None:
        with self._lock:
            old = self.procs[name]
            args = [str(a) for a in old.args][2:]  # type: ignore[union-attr]
            self.procs[name] = launch(args, self.log_dir / f"{name}.log", stack_env())

    def dead(self) -> list[str]:
        """Processes that exited although nobody killed them (after the chaos every one must be running)."""
        return [name for name, p in self.procs.items() if p.poll() is not None]

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@dataclass(frozen=True)
class Event:
    at: float  # seconds after the chaos starts
    kind: str  # kill | broker | gateway
    target: str = ""


def schedule(rng: random.Random, names: list[str], window: float) -> list[Event]:
    """Every process in ``names`` killed once, the broker restarted once, at random moments of ``window``.

    The gateway's fault window is not timed: it opens when the first record is sealed, so it meets submissions.
    """
    events = [Event(round(rng.uniform(1.0, window), 1), "kill", name) for name in names]
    events.append(Event(round(rng.uniform(window * 0.2, window), 1), "broker"))
    events.append(Event(0.0, "gateway"))
    return sorted(events, key=lambda e: e.at)


@dataclass
class Monkey:
    stack: Stack
    rng: random.Random
    events: list[Event]
    amqp_uri: str
    vhost: str
    gateway_admin: Callable[[], httpx.Client]
    first_sealed: Callable[[], bool]
    broker_mode: str = "connections"  # connections: close every connection of the test vhost; app: stop_app
    fault_seconds: float = 8.0
    log: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def say(self, started: float, what: str) -> None:
        line = f"[chaos +{time.monotonic() - started:5.1f}s] {what}"
        self.log.append(line)
        print(line, flush=True)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="chaos-monkey", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        started = time.monotonic()
        threads = []
        try:
            for event in self.events:
                if event.kind == "gateway":
                    # Its own thread: it waits for the first seal while the kills go on.
                    t = threading.Thread(target=self._gateway_window, args=(started,), daemon=True)
                    t.start()
                    threads.append(t)
                    continue
                if self.stop.wait(max(0.0, started + event.at - time.monotonic())):
                    return
                if event.kind == "kill":
                    self.stack.kill(event.target)
                    down = round(self.rng.uniform(0.5, 3.0), 1)
                    self.say(started, f"SIGKILL {event.target}; restarting it in {down}s")
                    time.sleep(down)
                    self.stack.restart(event.target)
                elif event.kind == "broker":
                    self._restart_broker(started)
            for t in threads:
                t.join()
        except Exception:  # noqa: BLE001 - reported by the test, which fails on it
            self.errors.append(traceback.format_exc())
        finally:
            self.done.set()

    def _restart_broker(self, started: float) -> None:
        if self.broker_mode == "app":
            self.say(started, "rabbitmqctl stop_app (every connection of the node drops)")
            subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=60)
            time.sleep(self.rng.uniform(1.0, 3.0))
            subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)
        else:
            self.say(started, f"RabbitMQ closes every connection of vhost {self.vhost}")
            subprocess.run(
                ["rabbitmqctl", "-q", "close_all_connections", "--vhost", self.vhost, "chaos test"],
                check=True,
                capture_output=True,
                timeout=60,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with Connection(self.amqp_uri, connect_timeout=2) as conn:
                    conn.ensure_connection(max_retries=1)
                break
            except Exception:  # noqa: BLE001 - not accepting connections yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.say(started, "broker accepts connections again")

    @staticmethod
    def _asks(question: Callable[[], bool]) -> bool:
        try:
            return question()
        except Exception:  # noqa: BLE001 - the database is shared and busy: ask again
            return False

    def _gateway_window(self, started: float) -> None:
        try:
            while not self._asks(self.first_sealed):
                if self.stop.wait(0.5):
                    return
            seed = self.rng.randrange(1 << 30)
            with self.gateway_admin() as admin:
                # Errors, dropped sockets and accepted-but-unanswered submissions, then a hard outage.
                flaky = {
                    "error_rate": 0.4,
                    "drop_rate": 0.2,
                    "accept_timeout_rate": 0.3,
                    "accept_timeout_mode": "drop",
                    "seed": seed,
                }
                admin.post("/_admin/faults", json=flaky).raise_for_status()
                self.say(started, f"gateway flaky for {self.fault_seconds / 2:.0f}s {flaky}")
                time.sleep(self.fault_seconds / 2)
                admin.post(
                    "/_admin/faults", json={"outage_seconds": 0, "outage_mode": "error"}
                ).raise_for_status()
                self.say(started, f"gateway outage for {self.fault_seconds / 2:.0f}s")
                time.sleep(self.fault_seconds / 2)
                admin.post("/_admin/faults", json={}).raise_for_status()
                self.say(started, "gateway faults off")
        except Exception:  # noqa: BLE001 - reported by the test
            self.errors.append(traceback.format_exc())
