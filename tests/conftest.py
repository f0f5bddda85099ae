"""Test set-up: eventlet first, then a private broker vhost and private databases for this run."""

from services.runtime import green

green.patch()  # before anything imports psycopg or nameko's consumers

import functools
import hashlib
import itertools
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.ports import free_port

# Per checkout, so that two clones (CI and a developer) running the suite at once never share a vhost or database.
_CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]
TEST_VHOST = os.environ.get("HOCBA_TEST_VHOST", f"hocba_test_{_CHECKOUT}")  # a prefix for broker user names
# This run's name: the checkout and pytest's pid (set once per process tree: this module is imported a second time
# as ``tests.conftest``), so `make setup` can tell a killed run's leftovers (its pid is gone) from a live run's.
# `make test` runs the suite as several pytest processes at once (tests/parallel.py): each is a run of its own.
RUN = os.environ.setdefault("HOCBA_TEST_RUN", f"hocba_test_{_CHECKOUT}_{os.getpid()}")

# Before any module reads settings (they are cached per process; subprocesses inherit these too).
os.environ["HOCBA_ENV"] = "test"
# Tokens: this run's own development issuer (sandbox/issuer.py); services verify against its JWKS file and get
# their service tokens from its token endpoint, served for the session by the `token_issuer` fixture.
# One per parallel process (HOCBA_TEST_SHARD, set by tests/parallel.py): two generating the key file at once race.
_SHARD = os.environ.get("HOCBA_TEST_SHARD", "")
_ISSUER = Path(tempfile.gettempdir()) / f"hocba-test-issuer-{_CHECKOUT}{_SHARD and '-' + _SHARD}"
# Chosen once per run: some tests import this module as ``tests.conftest`` too, which runs it a second time.
_ISSUER_PORT = int(os.environ.setdefault("HOCBA_TEST_ISSUER_PORT", str(free_port())))
os.environ["HOCBA_DEV_ISSUER_KEY"] = str(_ISSUER / "key.pem")
os.environ["HOCBA_JWKS_FILE"] = str(_ISSUER / "jwks.json")
os.environ.pop("HOCBA_JWKS_URL", None)
os.environ["HOCBA_OAUTH_TOKEN_URL"] = f"http://127.0.0.1:{_ISSUER_PORT}/token"
os.environ["HOCBA_OAUTH_CLIENT_SECRET"] = "test-client-secret-not-for-production"
os.environ["HOCBA_DATA_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 test bytes
os.environ["HOCBA_LOG_JSON"] = "true"
# The platform's durable queues are quorum queues, as on the Kubernetes cluster (services/runtime/queues.py); the
# node must allow the file handles they reserve (`make setup` sees to it; `_broker_holds_quorum_queues` checks).
os.environ["HOCBA_QUEUE_TYPE"] = "quorum"
# The sample schools' year is 2025–2026, whose 30 June has passed: the suite runs it as a rehearsal before that
# cutoff, like the demo (services/runtime/calendar.py reporting_day). Tests of the cutoff itself set their own day.
os.environ["HOCBA_REPORTING_DAY"] = "2026-06-20"
# Stacks log each service and relay in as its own broker user: cluster-wide, so named for this run and deleted at
# its end (`make setup` deletes those of a killed run), their passwords derived from this test secret.
os.environ["HOCBA_BROKER_USER_PREFIX"] = f"{RUN}_"
os.environ["HOCBA_BROKER_USER_SECRET"] = "test-broker-user-secret-not-for-production"
# Until a module asks for `amqp_uri` / `service_databases`, the broker and the databases are ones that do not
# exist: a test that talks to them without asking fails at once with a name that says why. Once per run: a second
# import (``from tests.conftest import RUN`` inside a fixture) must not undo the vhost and databases a module's
# fixtures have already pointed these at (tests/integration/sync/test_reporting.py's gateway fixture did, and its services
# then connected to the "ask_for" databases).
if os.environ.get("HOCBA_TEST_PLACEHOLDERS") != RUN:
    os.environ["HOCBA_TEST_PLACEHOLDERS"] = RUN
    os.environ["HOCBA_AMQP_URI"] = f"amqp://guest:guest@127.0.0.1:5672/{RUN}_ask_for_amqp_uri"
    for _service in ("gradebook", "transcript", "signing", "sync", "audit"):
        os.environ[f"HOCBA_DB_URL_{_service.upper()}"] = (
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_ask_for_service_databases_{_service}"
        )


# Open files the broker needs for the suite's quorum queues (each reserves 3 file handles on one node; the suite
# holds a few hundred at once): below it, new connections would hang on the node rather than fail.
_BROKER_OPEN_FILES = 5000


@pytest.fixture(scope="session", autouse=True)
def _broker_holds_quorum_queues() -> None:
    """Stop at once, saying why, on a broker whose open-files limit quorum queues would exhaust: the node would go on
    accepting TCP while no new AMQP connection completes (a hang, not a failure). Nothing to check where no broker
    runs (`make unit`)."""
    from sandbox.ports import answers

    if not answers(15672):
        return
    from services.runtime import http_client

    (node,) = http_client.get(f"{_MANAGEMENT}/api/nodes", timeout=30).json()[:1]
    if node["fd_total"] < _BROKER_OPEN_FILES:
        pytest.exit(
            f"RabbitMQ allows {node['fd_total']} open files; the suite's quorum queues need {_BROKER_OPEN_FILES} "
            "(run `make setup`: it restarts the local node with more)",
            returncode=1,
        )


@pytest.fixture(scope="session", autouse=True)
def token_issuer():
    """The development issuer's token endpoint (client credentials), for services calling each other."""
    from sandbox.issuer import serve_in_thread
    from services.runtime.settings import Settings

    server, url = serve_in_thread(Settings(), _ISSUER_PORT)
    yield url
    server.shutdown()


# Each test module owns its broker vhost and its databases, named after this run (the checkout and pytest's pid, so
# `make setup` can drop what a killed run left: its pid is gone) and the module's place in the run; dropped at the
# module's end. What an earlier module published, consumed or stored never reaches a later one, whatever the order.
_MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
_SERVICES = ("gradebook", "transcript", "signing", "sync", "audit")
_modules = itertools.count(1)


def _clear_settings() -> None:
    from services.runtime.settings import get_settings

    get_settings.cache_clear()


def _together(calls: Iterable[Callable[[], Any]]) -> None:
    """Every call at once (green threads: each mostly waits on PostgreSQL or RabbitMQ), the first error raised."""
    import eventlet

    pool = eventlet.GreenPool()
    for thread in [pool.spawn(call) for call in calls]:
        thread.wait()


# What a module left to drop (its databases and vhost): dropped in the background while the next module runs, since
# no other module uses those names; waited for at the end of the run, so that an error still fails it.
_leftovers: list[Any] = []


def _later(call: Callable[[], Any]) -> None:
    import eventlet

    _leftovers.append(eventlet.spawn(call))


@pytest.fixture(scope="session", autouse=True)
def _drop_this_run() -> Iterator[None]:
    """At the end, whatever this run still holds: the stack tests' vhosts and databases (`<RUN>_chaos`, …).
    Where neither PostgreSQL nor RabbitMQ runs (`make unit` on a bare machine) the run can hold nothing."""
    yield
    while _leftovers:
        _leftovers.pop().wait()
    from sandbox.ports import answers

    if not (answers(5432) and answers(15672)):
        return
    import psycopg

    from services.runtime.db import drop_database

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        names = [
            row[0]
            for row in admin.execute(
                "select datname from pg_database where starts_with(datname, %s)", [f"{RUN}_"]
            )
        ]
    server = "postgresql+psycopg://postgres@127.0.0.1:5432"
    _together(functools.partial(drop_database, f"{server}/{name}") for name in names)
    from services.runtime.broker import delete_vhost, management_api
    from services.runtime.broker_access import delete_users

    with management_api(_MANAGEMENT, timeout=60) as api:
        vhosts = [v["name"] for v in api.get("/vhosts").json() if v["name"].startswith(f"{RUN}_")]
        users = [u["name"] for u in api.get("/users").json() if u["name"].startswith(f"{RUN}_")]
        _together(functools.partial(delete_vhost, api, vhost) for vhost in vhosts)
    _together(functools.partial(delete_users, _MANAGEMENT, [user]) for user in users)


@pytest.fixture(scope="module")
def module_id() -> str:
    """This module's place in the run: part of the names of its vhost and databases."""
    return f"m{next(_modules)}"


@pytest.fixture(scope="module")
def broker_vhost(module_id: str) -> Iterator[str]:
    """An empty vhost of the module's own; HOCBA_AMQP_URI points at it while the module runs (services it starts,
    in-process or as subprocesses, connect there)."""
    from services.runtime.broker import recreate_vhost
    from tests.helpers import delete_vhost

    vhost = f"{RUN}_{module_id}"
    recreate_vhost(_MANAGEMENT, vhost)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOCBA_AMQP_URI", f"amqp://guest:guest@127.0.0.1:5672/{vhost}")
        _clear_settings()
        yield vhost
    _clear_settings()
    _later(functools.partial(delete_vhost, _MANAGEMENT, vhost))


@pytest.fixture(scope="module")
def amqp_uri(broker_vhost: str) -> str:
    return f"amqp://guest:guest@127.0.0.1:5672/{broker_vhost}"


@pytest.fixture(scope="session")
def database_templates() -> Iterator[dict[str, str]]:
    """Every service's database migrated once per run with its real Alembic history: the template modules copy."""
    from services.runtime.db import drop_database, recreate_database
    from services.runtime.migrations import upgrade

    urls = {
        service: f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_template_{service}"
        for service in _SERVICES
    }
    for service, url in urls.items():
        recreate_database(url)
        upgrade(service, url)
    yield urls
    _together(functools.partial(drop_database, url) for url in urls.values())


@pytest.fixture(scope="module")
def service_databases(database_templates: dict[str, str], module_id: str) -> Iterator[dict[str, str]]:
    """Fresh migrated databases of the module's own (copies of the run's templates: `CREATE DATABASE … TEMPLATE`);
    HOCBA_DB_URL_<SERVICE> point at them while the module runs. Dropped at its end."""
    from services.runtime.db import drop_database
    from tests.helpers import copy_database

    urls = {
        service: f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_{module_id}_{service}"
        for service in _SERVICES
    }
    _together(functools.partial(copy_database, database_templates[s], url) for s, url in urls.items())
    with pytest.MonkeyPatch.context() as env:
        for service, url in urls.items():
            env.setenv(f"HOCBA_DB_URL_{service.upper()}", url)
        _clear_settings()
        yield urls
    _clear_settings()
    for url in urls.values():
        _later(functools.partial(drop_database, url))


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """HOCBA_TEST_ORDER=reversed runs the suite backwards (pytest-randomly, `-p randomly`, shuffles it): the proof
    that no module depends on what another left behind."""
    if os.environ.get("HOCBA_TEST_ORDER") == "reversed":
        items.reverse()
