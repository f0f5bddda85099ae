"""`make test` on every core: the suite as several pytest processes at once, each taking whole test files.

Each process is a test run of its own (its pid names its vhosts, databases and broker users: tests/conftest.py), so
the isolation that lets modules run in any order also lets them run side by side. Files are handed out while the
run goes (the next process to finish a file claims the next one, heaviest first by tests/durations.json), so one
slow file does not leave the others idle. The test PKI's Animator, one per machine, is started here for the whole
run: every process and stack adopts it and none stops it while another still uses it. The processes' JUnit reports
are merged into one. (pytest-xdist cannot be used: its workers talk to the controller through threads, which
eventlet's monkey patching, done before anything imports psycopg, turns green, and the run hangs.)

    python -m tests.parallel [--processes N] [--junitxml PATH] [pytest arguments…]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DURATIONS = Path(__file__).with_name("durations.json")
_CLAIMS = "HOCBA_TEST_CLAIMS"  # the file through which the processes claim test files
_COSTS = (
    "HOCBA_TEST_COSTS"  # where each process appends what each of its files cost (seconds of wall and CPU)
)
_UNKNOWN_FILE_SECONDS = 5.0  # a file not yet in durations.json


# --- inside each pytest process (loaded with `-p tests.parallel`) ---------------------------------------------------


def _claim(path: str) -> bool:
    """True if this process is the first to ask for ``path`` (a test file), under a lock shared by the processes."""
    with open(os.environ[_CLAIMS], "a+", encoding="utf-8") as claims:
        fcntl.flock(claims, fcntl.LOCK_EX)
        claims.seek(0)
        if path in claims.read().splitlines():
            return False
        claims.write(path + "\n")
        claims.flush()
        return True


def _cpu_seconds() -> float:
    """CPU used so far by this process and its children that have ended (a stack's services and relays, once
    stopped; a subprocess run and waited for): what a test file costs the machine, PostgreSQL and RabbitMQ aside."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _record_cost(path: str, wall: float, cpu: float) -> None:
    with open(os.environ[_COSTS], "a", encoding="utf-8") as costs:
        costs.write(json.dumps({"file": path, "wall": round(wall, 1), "cpu": round(cpu, 1)}) + "\n")


def _by_weight(items: list[pytest.Item]) -> list[list[pytest.Item]]:
    """The items grouped by file, heaviest file first (a long file started last would run alone at the end)."""
    weights = json.loads(DURATIONS.read_text()) if DURATIONS.is_file() else {}
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    order = sorted(files, key=lambda f: -weights.get(f, _UNKNOWN_FILE_SECONDS))
    return [files[f] for f in order]


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """Run only the files this process claims. The next file is claimed before the current file's last test runs,
    so pytest tears down exactly what the next file does not share (session fixtures stay up)."""
    if _CLAIMS not in os.environ or session.config.option.collectonly:
        return None
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} error(s) during collection")
    files = iter(_by_weight(session.items))

    def next_file() -> list[pytest.Item] | None:
        for items in files:
            if _claim(items[0].nodeid.split("::", 1)[0]):
                return items
        return None

    current = next_file()
    while current is not None:
        following: list[pytest.Item] | None = None
        wall, cpu = time.monotonic(), _cpu_seconds()
        for i, item in enumerate(current):
            if i == len(current) - 1:
                following = next_file()
            nextitem = current[i + 1] if i + 1 < len(current) else (following[0] if following else None)
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
        # Its module fixtures were torn down with its last test (the next file shares none of them).
        _record_cost(current[0].nodeid.split("::", 1)[0], time.monotonic() - wall, _cpu_seconds() - cpu)
        current = following
    return True


# --- the runner ----------------------------------------------------------------------------------------------------


def _merge(reports: list[Path], target: Path) -> tuple[int, int, int, int]:
    """One JUnit document with every process's suites; (tests, failures + errors, skipped, processes reporting)."""
    merged = ET.Element("testsuites")
    for report in reports:
        if not report.is_file():
            continue
        root = ET.parse(report).getroot()
        merged.extend([root] if root.tag == "testsuite" else list(root))
    target.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(merged).write(target, encoding="utf-8", xml_declaration=True)
    suites = list(merged)
    count = lambda key: sum(int(s.get(key, 0)) for s in suites)  # noqa: E731
    return count("tests"), count("failures") + count("errors"), count("skipped"), len(suites)


def _report_costs(costs: Path, update: bool) -> None:
    """The files that cost most CPU; with ``update``, their wall seconds become tests/durations.json."""
    if not costs.is_file():
        return
    rows = [json.loads(line) for line in costs.read_text().splitlines() if line]
    print("parallel: the costliest files (wall s, CPU s):")
    for row in sorted(rows, key=lambda r: -r["cpu"])[:15]:
        print(f"  {row['wall']:7.1f} {row['cpu']:7.1f}  {row['file']}")
    if update:
        durations = {row["file"]: row["wall"] for row in sorted(rows, key=lambda r: -r["wall"])}
        DURATIONS.write_text(json.dumps(durations, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", type=int, default=int(os.environ.get("HOCBA_TEST_PROCESSES", "3")))
    parser.add_argument("--junitxml", type=Path, default=None)
    parser.add_argument(
        "--update-durations",
        action="store_true",
        help="rewrite tests/durations.json with this run's seconds per file (a whole run's, not a selection's)",
    )
    args, pytest_args = parser.parse_known_args(argv)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eventlet's deprecation notice, on nameko's import (tests.helpers)
        from tests.helpers import start_animator, stop_animator

    work = Path(tempfile.mkdtemp(prefix="hocba-parallel-"))
    claims = work / "claims"
    claims.touch()
    costs = work / "costs.jsonl"
    # Each process chooses its own run name, placeholders and issuer port (tests/conftest.py): none inherited.
    own = {"HOCBA_TEST_RUN", "HOCBA_TEST_PLACEHOLDERS", "HOCBA_TEST_ISSUER_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in own}
    started = time.monotonic()
    animator = start_animator()
    procs: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    try:
        for k in range(args.processes):
            log, report = work / f"process-{k}.log", work / f"junit-{k}.xml"
            command = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "tests.parallel",
                f"--junitxml={report}",
                *pytest_args,
            ]
            with log.open("wb") as out:
                procs.append(
                    (
                        subprocess.Popen(
                            command,
                            cwd=ROOT,
                            env={**env, _CLAIMS: str(claims), _COSTS: str(costs), "HOCBA_TEST_SHARD": str(k)},
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        ),
                        log,
                        report,
                    )
                )
        codes = [proc.wait() for proc, _, _ in procs]
    finally:
        for proc, _, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stop_animator(animator)
    for k, (_, log, _) in enumerate(procs):
        print(f"===== process {k} (exit {codes[k]}): {log} =====")
        print(log.read_text(errors="replace"), end="", flush=True)
    tests, failed, skipped, _ = _merge(
        [report for _, _, report in procs], args.junitxml or work / "junit.xml"
    )
    # Exit 5 ("no tests collected") from a process that claimed nothing is not a failure; the whole run with none is.
    bad = [code for code in codes if code not in (0, 5)]
    passed = tests - failed - skipped
    _report_costs(costs, update=args.update_durations and not bad)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"parallel: {args.processes} processes, {time.monotonic() - started:.1f}s, "
        f"{used.ru_utime + used.ru_stime:.0f} CPU-seconds (the test processes and theirs)"
    )
    print(f"parallel: {passed} passed, {failed} failed, {skipped} skipped")  # the closing line, alone
    if bad:
        print(f"parallel: the processes' logs and reports stay in {work}")
        return max(bad)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if tests else 5


if __name__ == "__main__":
    sys.exit(main())
