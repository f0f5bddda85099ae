"""The chaos monkey of the pipeline test: a seeded plan of SIGKILLs, one broker fault, one PostgreSQL fault, one TSA
outage and a run of failed gateway submissions, each fired when the school's work reaches a progress point — never
at a moment of the clock.

Why progress points: a schedule timed by the clock met no work whenever a slow restart pushed it past the batch (a
broker restart and a kill together covered the whole gateway fault window once in five runs). Here every fault
fires while work is still ahead of it by construction: the driver holds one student's record back, unsigned, until
every fault has fired and every process runs again, so that record's whole path — signatures, seal, the report and
the province's answer, the audit — crosses every restarted process and the reconnected broker; the gateway fails
the next N submissions it receives, whenever they come. The seed picks which point each fault fires at, how long
a killed process stays down and which way each submission fails; any seed meets every fault.

PostgreSQL is shared with the other tests running beside this one, so it is never restarted: its fault terminates
every backend of this run's own databases (``pg_terminate_backend`` on ``<RUN>_chaos_*``), which every service,
relay and the gateway feel as a server restart (each pooled connection dies; a statement in flight fails). The TSA
is shared too (the machine's Animator): its outage switches off this stack's own relay in front of it
(`tsa_switch.py`), from a point the school's signatures still lie ahead of, and the TSA comes back only once the
outage has turned a request away as well as lasted its seeded time — the fault met work by construction, and the
monkey checks that it did, as it checks that the PostgreSQL fault terminated backends.
"""

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
import psycopg
from kombu import Connection

from cli.stack import STACK_ENTRY, as_own_broker_user, launch, stack_env
from tests.e2e.tsa_switch import TsaSwitch


def process_name(proc: subprocess.Popen[bytes]) -> str:
    """`run-gradebook`, `relay-sync`, `sandbox.gateway`…: the stack's log name for a process it spawned."""
    args = [str(a) for a in proc.args]  # type: ignore[union-attr]
    module = args[2]
    return "-".join(args[3:5]) if module == STACK_ENTRY else module


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
        self.killed[name] = proc.wait(30)

    def restart(self, name: str) -> None:
        with self._lock:
            old = self.procs[name]
            args = [str(a) for a in old.args][2:]  # type: ignore[union-attr]
            self.procs[name] = launch(
                args, self.log_dir / f"{name}.log", as_own_broker_user(args, stack_env())
            )

    def dead(self) -> list[str]:
        """Processes that exited although nobody killed them (after the chaos every one must be running)."""
        return [name for name, p in self.procs.items() if p.poll() is not None]

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# The progress points after the marks: the year locked, the first signature, the first seal, the first record the
# province accepted. Each is reached while the held record is still unsigned.
AFTER_MARKS = ("locked", "signed", "sealed", "accepted")
# Processes whose work is the marks: their kills land between two teachers' sheets (or right after the lock, when
# gradebook's relay still has the term.locked events to publish).
MARKS_PROCESSES = ("run-gradebook", "relay-gradebook")
SUBMISSION_FAULTS = ("error", "drop", "accept_timeout")
# Where the TSA goes down: every person's signature (and so every seal) still lies ahead of the year's lock.
TSA_POINTS = ("locked",)


@dataclass(frozen=True)
class Fault:
    point: str  # marks:<i> (after the i-th sheet) | locked | signed | sealed | accepted
    kind: str  # kill | broker | postgres | tsa
    target: str = ""
    down: float = 0.0  # seconds a killed process (or the TSA) stays down, at least


@dataclass(frozen=True)
class Plan:
    faults: list[Fault]
    submissions: list[str]  # how the gateway fails the next len(submissions) submissions, in order

    def describe(self) -> str:
        kills = ", ".join(f"{f.kind} {f.target} at {f.point}".replace("  ", " ") for f in self.faults)
        return f"{kills}; the next {len(self.submissions)} submissions fail: {', '.join(self.submissions)}"


def plan(rng: random.Random, names: list[str], sheets: int) -> Plan:
    """Every process in ``names`` killed once, the broker and PostgreSQL faulted once, the TSA down once, 2–4
    submissions failed; the seed says where.

    ``sheets`` is how many marks sheets the driver enters: a marks kill fires after sheet 1…sheets-1, so another
    sheet always follows it. The broker fault comes after the first seal (a sealed record's events are in flight)
    and, like every fault, before the held record is released, so the last submission crosses it.
    """
    marks_points = [f"marks:{i}" for i in range(1, sheets)] + ["locked"]
    faults = [
        Fault(
            rng.choice(marks_points if name in MARKS_PROCESSES else AFTER_MARKS),
            "kill",
            name,
            round(rng.uniform(0.5, 3.0), 1),
        )
        for name in names
    ]
    faults.append(Fault(rng.choice(("sealed", "accepted")), "broker"))
    submissions = [rng.choice(SUBMISSION_FAULTS) for _ in range(rng.randint(2, 4))]
    # Drawn after the others: a seed's kills, broker fault and submissions are those it had before these faults.
    faults.append(Fault(rng.choice(marks_points + list(AFTER_MARKS)), "postgres"))
    faults.append(Fault(rng.choice(TSA_POINTS), "tsa", down=round(rng.uniform(1.0, 4.0), 1)))
    return Plan(faults, submissions)


@dataclass
class Monkey:
    """Fires the plan's faults as the driver reports its progress; killed processes come back in the background."""

    stack: Stack
    plan: Plan
    amqp_uri: str
    vhost: str
    gateway_admin: Callable[[], httpx.Client]
    broker_mode: str = "connections"  # connections: close every connection of the test vhost; app: stop_app
    postgres_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_prefix: str = ""  # the run's own databases: every backend of these is terminated
    tsa: TsaSwitch | None = None  # this stack's TSA, switched off and on again
    # How many of the signing service's requests failed for want of a timestamp so far (its own count): the audit
    # service's timestamps go through the same switch, so the switch's count alone does not prove signing met it.
    tsa_met: Callable[[], int] = lambda: 0
    # database -> backends the PostgreSQL fault ended
    terminated: dict[str, int] = field(default_factory=dict)
    tsa_refused: int = 0  # timestamp requests the TSA outage turned away
    tsa_signing_refusals: int = 0  # the signing service's requests that failed for want of a timestamp
    log: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fired: list[Fault] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)
    _restarts: list[threading.Thread] = field(default_factory=list)

    def say(self, what: str) -> None:
        line = f"[chaos +{time.monotonic() - self._started:5.1f}s] {what}"
        self.log.append(line)
        print(line, flush=True)

    def arm_gateway(self) -> None:
        """The next submissions fail as planned, whenever they come (errors, dropped sockets, accepted unanswered)."""
        with self.gateway_admin() as admin:
            admin.post(
                "/_admin/faults", json={"fail_next": self.plan.submissions, "accept_timeout_mode": "drop"}
            ).raise_for_status()
        self.say(f"gateway: the next {len(self.plan.submissions)} submissions fail: {self.plan.submissions}")

    def submissions_left(self) -> int:
        with self.gateway_admin() as admin:
            return int(admin.get("/_admin/faults").json()["fail_next_left"])

    def reached(self, point: str) -> None:
        """The driver reached ``point``: fire what the plan put there (kills return at once, the broker fault once
        the broker accepts connections again)."""
        for fault in self.plan.faults:
            if fault.point != point:
                continue
            if fault.kind == "kill":
                self.stack.kill(fault.target)
                self.say(f"{point}: SIGKILL {fault.target}; back in {fault.down}s")
                restart = threading.Thread(target=self._restart, args=(fault,), daemon=True)
                restart.start()
                self._restarts.append(restart)
            elif fault.kind == "postgres":
                self._fault_postgres(point)
            elif fault.kind == "tsa":
                assert self.tsa is not None, "a TSA outage planned without a TSA switch"
                self.tsa.off()
                self.say(
                    f"{point}: the TSA goes down for {fault.down}s at least, until a signature fails for want of it"
                )
                back = threading.Thread(target=self._tsa_back, args=(fault,), daemon=True)
                back.start()
                self._restarts.append(back)
            else:
                self._fault_broker(point)
            self.fired.append(fault)

    def _restart(self, fault: Fault) -> None:
        try:
            time.sleep(fault.down)  # the fault itself: how long the process stays down
            self.stack.restart(fault.target)
            self.say(f"{fault.target} started again")
        except Exception:  # noqa: BLE001 - reported by the test, which fails on it
            self.errors.append(traceback.format_exc())

    def _tsa_back(self, fault: Fault) -> None:
        """The TSA comes back once it has been down ``fault.down`` seconds and a signature of the school's failed
        for want of it (the signatures after the lock always need one); within 10 minutes whatever happens."""
        assert self.tsa is not None
        try:
            time.sleep(fault.down)  # the fault itself: how long the TSA stays down, at least
            deadline = time.monotonic() + 600
            while not self._signing_met_tsa_outage() and time.monotonic() < deadline:
                time.sleep(0.5)
            self.tsa_refused = self.tsa.refused
        except Exception:  # noqa: BLE001 - reported by the test, which fails on it
            self.errors.append(traceback.format_exc())
        finally:
            self.tsa.on()
        self.say(
            f"the TSA is back, after turning {self.tsa_refused} requests away"
            f" ({self.tsa_signing_refusals} signing requests answered 503)"
        )

    def _signing_met_tsa_outage(self) -> bool:
        assert self.tsa is not None
        try:
            met = self.tsa_met()
        except httpx.HTTPError:  # the signing service is being restarted
            return False
        if met:
            self.tsa_signing_refusals = max(self.tsa_signing_refusals, met)
        return self.tsa.refused > 0 and met > 0

    def _fault_postgres(self, point: str) -> None:
        """Every backend of the run's own databases terminated at once: the services, relays and gateway of this
        stack lose every connection, as in a server restart; nobody else's is touched."""
        assert self.database_prefix, "a PostgreSQL fault needs the run's database prefix"
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.postgres_admin_url, autocommit=True, connect_timeout=5) as conn:
                    rows = conn.execute(
                        "select datname, pg_terminate_backend(pid) from pg_stat_activity"
                        " where starts_with(datname, %s) and pid <> pg_backend_pid()",
                        [self.database_prefix],
                    ).fetchall()
                break
            except psycopg.OperationalError:  # the shared server's connections all taken: its load, not ours
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        for database, ended in rows:
            if ended:
                self.terminated[database] = self.terminated.get(database, 0) + 1
        self.say(
            f"{point}: PostgreSQL terminates every backend of {self.database_prefix}*: {self.terminated}"
        )

    def report(self) -> str:
        """What fired, where, and what each fault met: the run's figures."""
        met = {
            "kill": lambda f: f"down {f.down}s",
            "postgres": lambda f: (
                f"{sum(self.terminated.values())} backends of {len(self.terminated)} databases"
            ),
            "tsa": lambda f: (
                f"down {f.down}s at least, {self.tsa_refused} requests turned away,"
                f" {self.tsa_signing_refusals} signing requests answered 503"
            ),
            "broker": lambda f: f"mode {self.broker_mode}",
        }
        return "; ".join(
            f"{f.kind} {f.target} at {f.point} ({met[f.kind](f)})".replace("  ", " ") for f in self.fired
        )

    def finish(self, timeout: float) -> None:
        """Every planned fault has fired and met work, every killed process has been started again and the TSA
        is back."""
        deadline = time.monotonic() + timeout
        for restart in self._restarts:
            restart.join(max(0.1, deadline - time.monotonic()))
        unfired = [f for f in self.plan.faults if f not in self.fired]
        assert unfired == [], f"faults whose progress point was never reached: {unfired}"
        assert not any(t.is_alive() for t in self._restarts), "a killed process was not started again"
        kinds = {f.kind for f in self.plan.faults}
        if "postgres" in kinds:
            assert sum(self.terminated.values()) > 0, "the PostgreSQL fault found no backend to terminate"
        if "tsa" in kinds:
            assert self.tsa_refused > 0 and self.tsa_signing_refusals > 0, (
                f"the TSA outage met no signature ({self.tsa_refused} requests turned away)"
            )

    def _fault_broker(self, point: str) -> None:
        if self.broker_mode == "app":
            self.say(f"{point}: rabbitmqctl stop_app (every connection of the node drops)")
            try:
                subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=60)
                time.sleep(2.0)  # the fault itself: how long the node stays down
            finally:
                # Never leave the machine's broker stopped, whatever happened in between.
                subprocess.run(
                    ["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120
                )
        else:
            self.say(f"{point}: RabbitMQ closes every connection of vhost {self.vhost}")
            subprocess.run(
                ["rabbitmqctl", "-q", "close_all_connections", "--vhost", self.vhost, "chaos test"],
                check=True,
                capture_output=True,
                timeout=60,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                with Connection(self.amqp_uri, connect_timeout=2) as conn:
                    conn.ensure_connection(max_retries=1)
                break
            except Exception:  # noqa: BLE001 - not accepting connections yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.say("broker accepts connections again")
