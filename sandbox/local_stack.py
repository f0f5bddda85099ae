"""Make sure RabbitMQ and PostgreSQL answer on the configured URLs; start (or install) them locally if not."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sandbox.ports import answers

LOCAL = {"127.0.0.1", "localhost", "::1"}


def say(message: str) -> None:
    print(f"[setup] {message}", flush=True)


def wait_until(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(port, host):
            return True
        time.sleep(0.5)
    return False


def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, text=True, capture_output=True)


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise SystemExit(
            f"[setup] {', '.join(packages)} missing and not root: install them, or point HOCBA_* at servers"
        )
    say(f"installing {' '.join(packages)} from Debian")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True, env=env)


# Connections the local server allows. Debian's default, 100, runs out when `make test` (three pytest processes, each
# stack test with ten processes of its own) and `make demo` or `hocba up` use one server together ("sorry, too many
# clients already"); each idle connection costs the server a few hundred kilobytes.
MAX_CONNECTIONS = 300


def ensure_postgres(host: str, port: int) -> None:
    if answers(port, host):
        if host in LOCAL:
            allow_connections(host, port)
        return
    if host not in LOCAL:
        raise SystemExit(
            f"[setup] PostgreSQL at {host}:{port} does not answer (not local, so not starting it)"
        )
    if not Path("/etc/postgresql").is_dir():
        apt_install("postgresql")
    for version in sorted(os.listdir("/etc/postgresql")):
        say(f"starting PostgreSQL {version}")
        run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start", check=False)
    if not wait_until(host, port, 30):
        raise SystemExit(f"[setup] PostgreSQL did not come up on {host}:{port}")
    # A fresh Debian cluster only trusts local sockets; the services connect over TCP as `postgres`.
    hba = next(Path("/etc/postgresql").glob("*/main/pg_hba.conf"), None)
    if hba and "127.0.0.1/32            trust" not in hba.read_text():
        say("allowing trust auth on 127.0.0.1 for local development")
        hba.write_text(
            "host all all 127.0.0.1/32            trust\nhost all all ::1/128 trust\n" + hba.read_text()
        )
        for version in os.listdir("/etc/postgresql"):
            run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "reload", check=False)
    allow_connections(host, port)


def allow_connections(host: str, port: int) -> None:
    """At least MAX_CONNECTIONS on the local server: set once (ALTER SYSTEM) and applied by the one restart it needs,
    which drops whatever is connected at that moment; every later setup finds it done and restarts nothing."""
    import psycopg

    with psycopg.connect(f"postgresql://postgres@{host}:{port}/postgres", autocommit=True) as conn:
        row = conn.execute("show max_connections").fetchone()
        if row is not None and int(row[0]) >= MAX_CONNECTIONS:
            return
        conn.execute(f"alter system set max_connections = {MAX_CONNECTIONS}")
    say(f"PostgreSQL: max_connections {row[0] if row else '?'} -> {MAX_CONNECTIONS} (one restart)")
    for version in sorted(os.listdir("/etc/postgresql")):
        run("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", check=False)
    if not wait_until(host, port, 60):
        raise SystemExit(
            f"[setup] PostgreSQL did not come back on {host}:{port} after raising max_connections"
        )


def ensure_rabbitmq(host: str, port: int) -> None:
    if not answers(port, host):
        if host not in LOCAL:
            raise SystemExit(
                f"[setup] RabbitMQ at {host}:{port} does not answer (not local, so not starting it)"
            )
        if not shutil.which("rabbitmq-server"):
            apt_install("rabbitmq-server")
        # A run killed in the middle of a `rabbitmqctl stop_app` (the chaos test's node fault) leaves the node up
        # with its application stopped: starting the application is the whole recovery.
        if run("rabbitmqctl", "-q", "ping", check=False).returncode == 0:
            say("RabbitMQ's node runs with its application stopped: starting the application")
            run("rabbitmqctl", "-q", "start_app", check=False)
            if wait_until(host, port, 60):
                ensure_management(host)
                return
        _start_rabbitmq(host, port)
    if host in LOCAL:
        _give_open_files(host, port)
    ensure_management(host)


# Open files the local broker needs. On RabbitMQ 3.x each quorum queue reserves file handles in the node's file handle
# cache (3 on one node), whose limit the node takes from its open-files limit at boot (Debian's soft 1024: 927
# handles); once reservations fill it, no new connection completes its handshake, for anyone (services/runtime/
# queues.py). The test suite runs on quorum queues, a vhost per test module and per stack, three processes at once:
# a few hundred queues. The limit is read only at boot, and another user's running process cannot have it raised
# from outside here (prlimit: not permitted), so the node's environment file raises its soft limit to its hard one
# (which `su` keeps; Debian's is 20000 here), and a node started with less is restarted once.
BROKER_OPEN_FILES = 5000
_ENV_FILE = Path("/etc/rabbitmq/rabbitmq-env.conf")
_RAISE = (
    'ulimit -S -n "$(ulimit -H -n)" 2>/dev/null || true  # make setup: quorum queues reserve file handles'
)


def _give_open_files(host: str, port: int) -> None:
    """The local node with BROKER_OPEN_FILES open files: the line that raises them written, and a node started with
    less restarted once (the old VM gone before the new one starts); said when its hard limit still keeps it below."""
    has = _open_files_of_node()
    if has < BROKER_OPEN_FILES and _raise_open_files():
        say(f"RabbitMQ: restarting the node for its open-files limit (it has {has})")
        run("rabbitmqctl", "-q", "stop", check=False)
        deadline = time.monotonic() + 60
        while answers(port, host) and time.monotonic() < deadline:
            time.sleep(0.5)
        _start_rabbitmq(host, port)
        has = _open_files_of_node()
    if has < BROKER_OPEN_FILES:
        say(
            f"RabbitMQ allows {has} open files: the test suite's quorum queues need {BROKER_OPEN_FILES} "
            "(raise the rabbitmq user's hard limit, then run make setup again)"
        )


def _open_files_of_node() -> int:
    """The running node's soft open-files limit (its Erlang VM's), or 0 when it cannot be read."""
    found = run("rabbitmqctl", "-q", "eval", "list_to_integer(os:getpid()).", check=False).stdout.strip()
    limits = Path(f"/proc/{found}/limits")
    if not found.isdigit() or not limits.exists():
        return 0
    match = re.search(r"^Max open files\s+(\d+)", limits.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def _raise_open_files() -> bool:
    """The line that raises the node's soft limit, in the environment file every start of it sources (the service's
    and `rabbitmq-server -detached`); True when it was not there yet (a restart applies it)."""
    if not _ENV_FILE.parent.is_dir():
        return False
    text = _ENV_FILE.read_text() if _ENV_FILE.exists() else ""
    if _RAISE in text:
        return False
    _ENV_FILE.write_text(text + ("" if text.endswith("\n") or not text else "\n") + _RAISE + "\n")
    return True


def _start_rabbitmq(host: str, port: int) -> None:
    _raise_open_files()
    say("starting RabbitMQ")
    run("rabbitmq-server", "-detached", check=False)
    if not wait_until(host, port, 90):
        raise SystemExit(f"[setup] RabbitMQ did not come up on {host}:{port}")
    run("rabbitmqctl", "await_startup", check=False)
    wait_until(
        host, 15672, 60
    )  # the management API (enabled once: the plugin list persists) comes up after AMQP


def ensure_management(host: str) -> None:
    # The management API serves `hocba broker setup`, the DLQ tools and KEDA's HTTP scaler.
    if host in LOCAL and not answers(15672, host) and shutil.which("rabbitmq-plugins"):
        say("enabling the RabbitMQ management plugin")
        if run("rabbitmq-plugins", "enable", "rabbitmq_management", check=False).returncode == 0:
            wait_until(host, 15672, 30)


# What each system package gives us, and the file that shows it is there.
SYSTEM_PACKAGES = {
    "fonts-noto-core": "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",  # Vietnamese diacritics in PDFs
    "softhsm2": "/usr/lib/softhsm/libsofthsm2.so",  # the school seal's key lives in a PKCS#11 token
    "chromium": "/usr/bin/chromium",  # browser tests (Playwright drives Debian's chromium)
    "poppler-utils": "/usr/bin/pdftoppm",  # PDFs looked at as PNGs
    "xmlsec1": "/usr/bin/xmlsec1",  # an independent XAdES validator for the signed XML packages
    "mupdf-tools": "/usr/bin/mutool",  # text extraction that renders signature appearances (visible signatures)
    "qpdf": "/usr/bin/qpdf",  # structural check of every PDF we produce
    "zbar-tools": "/usr/bin/zbarimg",  # reads the sealed QR off a page image (hocba verify qr IMAGE.png)
}


def ensure_system_packages() -> None:
    missing = [name for name, path in SYSTEM_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        say(f"missing system packages and this is not root: {' '.join(missing)}")
        return
    apt_install(*missing)


# A test run names its vhosts and databases hocba_test_<checkout>_<pytest's pid>_… (tests/conftest.py) and drops
# them as it goes; a run killed in the middle cannot, so setup drops those whose run's process is gone.
TEST_RUN_NAME = re.compile(r"^hocba_test_[0-9a-f]{6}_(\d+)_")


# Before runs carried their pid, names were per checkout (hocba_test_<checkout>[_<label>]) and nothing dropped them:
# those go when nothing is connected to them.
LEGACY_TEST_NAME = re.compile(r"^hocba_test_[0-9a-f]{6}(_[a-z][a-z_]*)?$")


def _of_a_dead_run(name: str) -> bool:
    match = TEST_RUN_NAME.match(name)
    return match is not None and not Path(f"/proc/{match[1]}").exists()


def drop_dead_test_runs(db_url: str, management_url: str) -> None:
    import httpx
    import psycopg

    from services.runtime.broker import delete_vhost, management_api

    admin = urlsplit(db_url.replace("+psycopg", ""))._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute("select datname from pg_database where datname like 'hocba_test_%'")
        ]
        for name in filter(_of_a_dead_run, names):
            say(f"dropping database {name} (its test run is gone)")
            conn.execute(f'drop database if exists "{name}" with (force)')
        for name in filter(LEGACY_TEST_NAME.match, names):
            try:
                conn.execute(f'drop database if exists "{name}"')  # refused while anything is connected
                say(f"dropped database {name} (a test database from before runs were named)")
            except psycopg.errors.ObjectInUse:
                pass
    try:
        with management_api(management_url, timeout=60) as c:
            in_use = {x["vhost"] for x in c.get("/connections", params={"columns": "vhost"}).json()}
            for vhost in (v["name"] for v in c.get("/vhosts", params={"columns": "name"}).json()):
                if _of_a_dead_run(vhost) or (LEGACY_TEST_NAME.match(vhost) and vhost not in in_use):
                    say(f"deleting vhost {vhost} (its test run is gone)")
                    delete_vhost(c, vhost)
            for user in (u["name"] for u in c.get("/users").json()):
                if _of_a_dead_run(user):  # broker users a test run created (HOCBA_BROKER_USER_PREFIX)
                    say(f"deleting broker user {user} (its test run is gone)")
                    c.delete(f"/users/{quote(user, safe='')}")
    except httpx.HTTPError as error:
        say(f"could not list the broker's vhosts and users ({error}); stale test ones stay")


DEV_NAME = re.compile(
    r"^hocba_dev_[0-9a-f]{6}$"
)  # sandbox/dev_env.py: one vhost per checkout, and its databases


def claim_dev_state(settings: Any, gateway_db_url: str) -> None:
    """Create this checkout's development vhost and databases (what .env names), each marked with the checkout's
    path; drop those whose checkout is gone (a CI clone, a removed worktree) unless something still uses them."""
    import psycopg
    from psycopg import sql

    from services.runtime.broker import delete_vhost, management_api
    from services.runtime.db import ensure_database
    from services.runtime.settings import SERVICES

    checkout = str(Path(__file__).resolve().parents[1])
    urls = [settings.db_url(service) for service in SERVICES] + [gateway_db_url]
    for url in urls:
        ensure_database(url)
    admin = urlsplit(urls[0].replace("+psycopg", ""))._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        for url in urls:
            name = urlsplit(url).path.lstrip("/")
            if name.startswith("hocba_dev_"):
                conn.execute(sql.SQL("comment on database {} is {}").format(sql.Identifier(name), checkout))
        rows = conn.execute(
            "select datname, shobj_description(oid, 'pg_database') from pg_database where datname like 'hocba_dev_%'"
        ).fetchall()
        for name, owner in rows:
            if owner and not Path(owner).exists():
                try:
                    conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
                    say(f"dropped database {name} (its checkout {owner} is gone)")
                except psycopg.errors.ObjectInUse:
                    pass
    vhost = urlsplit(settings.amqp_uri).path.lstrip("/")
    with management_api(settings.rabbit_management_url, timeout=60) as c:
        if DEV_NAME.match(vhost):
            c.put(f"/vhosts/{vhost}", json={"description": checkout}).raise_for_status()
        in_use = {x["vhost"] for x in c.get("/connections", params={"columns": "vhost"}).json()}
        for other in c.get("/vhosts", params={"columns": "name,description"}).json():
            owner = other.get("description") or ""
            if (
                DEV_NAME.match(other["name"])
                and owner
                and not Path(owner).exists()
                and other["name"] not in in_use
            ):
                delete_vhost(c, other["name"])
                say(f"deleted vhost {other['name']} (its checkout {owner} is gone)")
                for user in (u["name"] for u in c.get("/users").json()):
                    if user.startswith(f"{other['name']}_"):  # its broker users (HOCBA_BROKER_USER_PREFIX)
                        c.delete(f"/users/{quote(user, safe='')}")


def main() -> int:
    from sandbox.gateway.settings import get_gateway_settings
    from services.runtime.settings import SERVICES, get_settings

    settings = get_settings()
    amqp = urlsplit(settings.amqp_uri)
    ensure_rabbitmq(amqp.hostname or "127.0.0.1", amqp.port or 5672)
    seen = set()
    for service in SERVICES:
        db = urlsplit(settings.db_url(service).replace("+psycopg", ""))
        key = (db.hostname or "127.0.0.1", db.port or 5432)
        if key not in seen:
            seen.add(key)
            ensure_postgres(*key)
    ensure_system_packages()
    if amqp.hostname in LOCAL:
        drop_dead_test_runs(settings.db_url("gradebook"), settings.rabbit_management_url)
        claim_dev_state(settings, get_gateway_settings().db_url)
    say("RabbitMQ and PostgreSQL answer; system packages present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
