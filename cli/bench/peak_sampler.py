"""What `hocba bench peak` watches once a second: each stage's count, the backlogs, and CPU and RSS per process."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import httpx
import psutil

from cli.stack import STACK_ENTRY
from services.runtime import http_client

# (key in Sample.totals, what the operator reads)
STAGES = [
    ("marks", "marks entered (students' years)"),
    ("assembled", "assembled (transcript: XML + PDF)"),
    ("signed", "personal signatures complete"),
    ("sealed", "sealed (HSM, B-LTA)"),
    ("accepted", "accepted by the gateway"),
]
INTERVAL = 1.0
ENDED_WHOLE_SERVER = "postgres backends that ended, whole server (others' too: not counted)"
BACKEND_INTERVAL = (
    0.25  # how often this stack's own database backends are read: one that ends loses at most this
)


@dataclass(frozen=True)
class Sample:
    t: float  # time.monotonic()
    totals: dict[str, int]
    backlogs: dict[str, int]


PLATFORM = (
    "service",
    "relay",
    "postgres",
    "broker",
)  # what CPU per record counts: ours, not stand-ins or the driver


@dataclass
class _Watched:
    name: str
    kind: str  # service, relay, stand-in, postgres, broker, driver
    process: Any  # psutil.Process
    # Count the CPU of the process's children that have ended and been reaped (the postmaster's: the backends that
    # disconnected during the run, whose own CPU is gone with them) instead of the process's own.
    ended_children: bool = False
    # The whole server or node, whatever else on the machine uses it too (another stack, a test run beside this one).
    shared: bool = False


def own_platform_cpu(before: dict[int, float], after: dict[int, float], watched: list[_Watched]) -> float:
    """CPU-seconds the platform's own processes used between two readings: not the stand-ins or the driver, and not
    a shared server or node (whose CPU meanwhile is others' too); a process missing from either reading counts 0."""
    return sum(
        after[w.process.pid] - before[w.process.pid]
        for w in watched
        if w.kind in PLATFORM and not w.shared and w.process.pid in before and w.process.pid in after
    )


class BackendLedger:
    """CPU of this stack's own PostgreSQL backends over the run, each from the first lock (or its start, if later) to
    its last reading: a backend that ends before the last snapshot keeps what it had used by its last reading."""

    def __init__(self) -> None:
        self._open: dict[
            int, list[Any]
        ] = {}  # pid → [name, CPU at the first reading counted from, last reading]
        self._closed: dict[str, float] = defaultdict(float)
        self._reused = 0

    def read(self, readings: dict[int, tuple[str, float]], *, at_mark: bool = False) -> None:
        """``readings``: pid → (name, CPU-seconds so far). At the mark a backend counts from its reading; a backend
        first seen later started during the run and counts from 0."""
        for pid, (name, cpu) in readings.items():
            seen = self._open.get(pid)
            if seen is not None and (seen[0] != name or cpu < seen[2]):  # the pid was reused by a new backend
                self._closed[seen[0]] += seen[2] - seen[1]
                self._reused += 1
                seen = None
            if seen is None:
                self._open[pid] = [name, cpu if at_mark else 0.0, cpu]
            else:
                seen[2] = cpu

    def totals(self) -> dict[str, float]:
        """CPU-seconds per database name, ended backends included."""
        totals = defaultdict(float, self._closed)
        for name, first, last in self._open.values():
            totals[name] += last - first
        return dict(totals)

    def backends(self) -> int:
        """How many backends were tracked (compare with pg_stat_database's ``sessions``: none went unseen)."""
        return len(self._open) + self._reused


def _label(args: list[str]) -> tuple[str, str]:
    """(name, kind) of a process spawn_stack started, from its command line."""
    if STACK_ENTRY in args:
        command, service = args[args.index(STACK_ENTRY) + 1 : args.index(STACK_ENTRY) + 3]
        return (service if command == "run" else f"{service}-relay"), (
            "service" if command == "run" else "relay"
        )
    return args[args.index("-m") + 1], "stand-in"


class Sampler:
    def __init__(self, demos: list[Any], procs: list[Any], env: dict[str, str], offset: int) -> None:
        self.demos = demos
        self.env = env
        self.prefix = f"hocba_bench_peak_{offset}_"
        self.samples: list[Sample] = []
        self.marks_total = 1
        self.marks_done = 0
        self._running = False
        self._thread: Any = None
        seen: dict[str, int] = defaultdict(int)
        self.watched: list[_Watched] = []
        for p in procs:
            name, kind = _label([str(a) for a in p.args])
            seen[name] += 1
            suffix = f"#{seen[name]}" if seen[name] > 1 else ""
            self.watched.append(_Watched(name + suffix, kind, psutil.Process(p.pid)))
        self.watched.append(_Watched("bench driver (the users)", "driver", psutil.Process()))
        self._cpu_start: dict[int, float] = {}
        self._cpu_end: dict[int, float] = {}
        self._infra: dict[int, _Watched] = {}
        self._rss: dict[str, float] = defaultdict(float)
        self._window = (0.0, 0.0)
        self.backends = BackendLedger()

    # -- the loop -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        import eventlet

        self._running = True
        self._thread = eventlet.spawn(self._loop)

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._thread.wait()
            self._cpu_end = self._cpu_now()
            if self._cpu_start:
                self.backends.read(self._own_backends())
            self._window = (self._window[0], time.monotonic())

    def idle_cpu_rate(self, seconds: float) -> float:
        """CPU-seconds per second the platform's processes use while nothing happens but this sampler's polling and
        their own timers: measured before the run, so that the report can take it out of CPU per record.

        Only this stack's own processes and database backends: what a shared server or node (the backends that
        ended anywhere on it, the RabbitMQ node) spends meanwhile is mostly others' work on a busy machine, and taken
        out at this rate over the whole run it could exceed all of the run's CPU (CI: 0 cores projected)."""
        self.start()
        started, before = time.monotonic(), self._cpu_now()
        time.sleep(seconds)
        after, elapsed = self._cpu_now(), time.monotonic() - started
        self._running = False
        self._thread.wait()
        self.samples.clear()
        return own_platform_cpu(before, after, [*self.watched, *self._infra.values()]) / elapsed

    def mark_cpu(self) -> None:
        """From here on CPU counts: the year is locked, the peak begins."""
        import eventlet

        if not self._cpu_start:
            self._cpu_start = self._cpu_now()
            self.backends.read(self._own_backends(), at_mark=True)
            self._window = (time.monotonic(), 0.0)
            eventlet.spawn(self._backend_loop)

    def _backend_loop(self) -> None:
        while self._running:
            self.backends.read(self._own_backends())
            time.sleep(BACKEND_INTERVAL)

    def _own_backends(self) -> dict[int, tuple[str, float]]:
        """pid → (``postgres <database>``, CPU-seconds so far) of this stack's backends, the gateway stand-in's
        included (reported as a stand-in)."""
        found = {}
        for p in psutil.process_iter(["cmdline", "cpu_times"]):
            cmdline = " ".join(p.info["cmdline"] or [])
            times = p.info["cpu_times"]
            if cmdline.startswith("postgres: ") and self.prefix in cmdline and times is not None:
                found[p.pid] = (
                    f"postgres {cmdline.split(self.prefix, 1)[1].split()[0]}",
                    times.user + times.system,
                )
        return found

    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def _loop(self) -> None:
        from kombu import Connection
        from sqlalchemy import text

        from cli.demo.pipeline import Pipeline
        from cli.registry import SERVICES, dev_token
        from services.runtime.broker import subscriptions_of
        from services.runtime.db import make_engine

        pipeline = Pipeline(dev_token, timeout=60)
        queues = {s.queue: name for name, e in SERVICES.items() for s in subscriptions_of(e.load())}
        engines = {n: make_engine(self.env[f"HOCBA_DB_URL_{n.upper()}"], pool_size=1) for n in SERVICES}
        per_record: dict[str, int] = {}
        with Connection(self.env["HOCBA_AMQP_URI"]) as conn:
            channel = conn.channel()
            while self._running:
                started = time.monotonic()
                try:
                    self.samples.append(self._sample(pipeline, channel, queues, engines, per_record, text))
                except (httpx.HTTPError, OSError) as error:  # a slow answer: skip this tick, not the run
                    print(f"sampler: {error}")
                time.sleep(max(0.0, INTERVAL - (time.monotonic() - started)))
        for engine in engines.values():
            engine.dispose()

    def _sample(
        self,
        pipeline: Any,
        channel: Any,
        queues: dict[str, str],
        engines: dict[str, Any],
        per_record: dict[str, int],
        text: Any,
    ) -> Sample:
        totals: dict[str, int] = defaultdict(int)
        backlogs: dict[str, int] = defaultdict(int)
        totals["marks"] = round(
            self.marks_done / max(1, self.marks_total) * sum(len(d.school.students) for d in self.demos)
        )
        for demo in self.demos:
            records = http_client.get(
                f"{pipeline.url['transcript']}/schools/{demo.school_id}/records",
                headers=pipeline.auth(demo.school_id, "van-thu", "staff"),
                timeout=60,
            ).json()["records"]
            current = [r for r in records if r["status"] != "superseded"]
            if current and demo.school_id not in per_record:
                per_record[demo.school_id] = len(current[0]["signature_plan"]) - 1
            status = pipeline.signing_status(demo)
            sync = pipeline.sync_status(demo)
            registered = sum(c["records"] for c in status["classes"])
            collecting = sum(c.get("collecting", 0) for c in status["classes"])
            sealing = sum(c.get("sealing", 0) for c in status["classes"])
            sealed = sum(c.get("sealed", 0) for c in status["classes"])
            totals["assembled"] += len(current)
            totals["signed"] += sealing + sealed
            totals["sealed"] += sealed
            totals["accepted"] += int(sync["accepted"])
            totals["rejected"] += int(sync["rejected"])
            # unsigned_steps counts the seal of every record still collecting or sealing too
            unsigned_people = int(status["unsigned_steps"]) - collecting - sealing
            totals["signatures"] += registered * per_record.get(demo.school_id, 0) - unsigned_people
            backlogs["signing: waiting for signers"] += collecting
            backlogs["signing: waiting for the seal"] += sealing
            backlogs["sync: sealed, not yet accepted"] += (
                sealed - int(sync["accepted"]) - int(sync["rejected"])
            )
        for queue, service in queues.items():
            _, depth, _ = channel.queue_declare(queue=queue, passive=True)
            backlogs[f"queue → {service}"] += depth
        for service, engine in engines.items():
            with engine.connect() as db:
                backlogs[f"outbox {service}"] = int(
                    db.execute(text("select count(*) from outbox where published_at is null")).scalar() or 0
                )
        for w in self.watched:
            with contextlib.suppress(psutil.Error):  # a stand-in that exited keeps its last figure
                self._rss[w.name] = max(self._rss[w.name], w.process.memory_info().rss / 2**20)
        return Sample(time.monotonic(), dict(totals), dict(backlogs))

    # -- CPU --------------------------------------------------------------------------------------------------------

    def _infrastructure(self) -> list[_Watched]:
        """This bench's PostgreSQL backends (by database name; the gateway stand-in's counted as a stand-in), the
        backends of the whole server that ended meanwhile, and the RabbitMQ node."""
        found = []
        for p in psutil.process_iter(["name", "cmdline"]):
            cmdline = " ".join(p.info["cmdline"] or [])
            if cmdline.startswith("postgres: ") and self.prefix in cmdline:
                database = cmdline.split(self.prefix, 1)[1].split()[0]
                kind = "stand-in" if database == "gateway" else "postgres"
                found.append(_Watched(f"postgres {database}", kind, p))
            elif p.info["name"] == "postgres" and " -D " in f" {cmdline} ":  # the postmaster
                # For reference only: what every backend that ended on the server used, other databases' too; ours
                # are counted per backend (BackendLedger).
                found.append(_Watched(ENDED_WHOLE_SERVER, "other", p, True, shared=True))
            elif p.info["name"] == "beam.smp":
                found.append(_Watched("rabbitmq (whole node)", "broker", p, shared=True))
        return found

    def _cpu_now(self) -> dict[int, float]:
        cpu = {}
        self._infra = {w.process.pid: w for w in self._infrastructure()}
        for w in [*self.watched, *self._infra.values()]:
            with contextlib.suppress(psutil.Error):  # gone
                times = w.process.cpu_times()
                cpu[w.process.pid] = (
                    times.children_user + times.children_system
                    if w.ended_children
                    else times.user + times.system
                )
        return cpu

    def cpu_window_s(self) -> float:
        """Seconds between the first lock (mark_cpu) and the end of the run: the window cpu_report covers."""
        return max(0.0, self._window[1] - self._window[0])

    def cpu_report(self) -> list[dict[str, Any]]:
        window = max(1e-9, self._window[1] - self._window[0])
        rows: dict[tuple[str, str], float] = defaultdict(float)
        for w in [*self.watched, *self._infra.values()]:
            pid = w.process.pid
            if w.name.startswith("postgres ") and not w.shared:
                continue  # this stack's backends: from the ledger, the ended ones too
            if pid in self._cpu_end:
                rows[(w.name, w.kind)] += self._cpu_end[pid] - self._cpu_start.get(pid, 0.0)
        for name, cpu in self.backends.totals().items():
            rows[(name, "stand-in" if name == "postgres gateway" else "postgres")] += cpu
        order = ["service", "relay", "postgres", "broker", "stand-in", "driver", "other"]
        return [
            {
                "name": name,
                "kind": kind,
                "cpu_s": round(cpu, 1),
                "cpu_pct": round(100 * cpu / window, 1),
                "rss_mib": round(self._rss.get(name, 0.0), 1),
            }
            for (name, kind), cpu in sorted(rows.items(), key=lambda r: (order.index(r[0][1]), r[0][0]))
        ]

    def queue_peaks(self) -> dict[str, dict[str, float]]:
        peaks: dict[str, dict[str, float]] = {}
        for i, sample in enumerate(self.samples):
            step = sample.t - self.samples[i - 1].t if i else 0.0
            for name, depth in sample.backlogs.items():
                entry = peaks.setdefault(name, {"peak": 0, "busy_s": 0.0})
                entry["peak"] = max(entry["peak"], depth)
                entry["busy_s"] += step if depth > 0 else 0.0
        return peaks


def stage_rates(
    samples: list[Sample], entry_started: float, entry_finished: float, records: int
) -> dict[str, dict[str, float]]:
    """Per stage: its final count and the window in which it moved (from the last sample before it began to the
    first sample at its final count); times in seconds from the start of the marks entry."""
    rates = {
        "marks": {
            "records": records,
            "first_s": 0.0,
            "last_s": entry_finished - entry_started,
        }
    }
    for name, _ in STAGES[1:]:
        final = samples[-1].totals.get(name, 0) if samples else 0
        before = next((i for i, s in enumerate(samples) if s.totals.get(name, 0) > 0), 0)
        first = samples[before - 1].t if before else entry_started
        last = next((s.t for s in samples if s.totals.get(name, 0) >= final), first)
        rates[name] = {"records": final, "first_s": first - entry_started, "last_s": last - entry_started}
    for entry in rates.values():
        entry["window_s"] = round(max(INTERVAL, entry["last_s"] - entry["first_s"]), 1)
        entry["records_per_s"] = entry["records"] / entry["window_s"]
        entry["first_s"] = round(entry["first_s"], 1)
        entry["last_s"] = round(entry["last_s"], 1)
    return rates
