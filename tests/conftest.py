"""Test set-up: eventlet first, then a private broker vhost and private databases for this run."""

from services.runtime import green

green.patch()  # before anything imports psycopg or nameko's consumers

import hashlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

# Per checkout, so that two clones (CI and a developer) running the suite at once never share a vhost or database.
_CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]
TEST_VHOST = os.environ.get("HOCBA_TEST_VHOST", f"hocba_test_{_CHECKOUT}")
_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/hocba_test_" + _CHECKOUT + "_{}"

# Before any module reads settings (they are cached per process; subprocesses inherit these too).
os.environ["HOCBA_ENV"] = "test"
os.environ["HOCBA_JWT_SECRET"] = "test-secret-not-for-production-0123456789"
os.environ["HOCBA_DATA_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 test bytes
os.environ["HOCBA_AMQP_URI"] = f"amqp://guest:guest@127.0.0.1:5672/{TEST_VHOST}"
os.environ["HOCBA_LOG_JSON"] = "true"
for _service in ("gradebook", "transcript", "signing", "sync", "audit"):
    os.environ[f"HOCBA_DB_URL_{_service.upper()}"] = _DB.format(_service)


def _management(method: str, path: str, **kw):
    return httpx.request(
        method, f"http://127.0.0.1:15672/api{path}", auth=("guest", "guest"), timeout=10, **kw
    )


def _recreate_vhost(name: str) -> None:
    try:
        _management("DELETE", f"/vhosts/{name}")
        _management("PUT", f"/vhosts/{name}").raise_for_status()
        _management(
            "PUT", f"/permissions/{name}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}
        ).raise_for_status()
        return
    except httpx.HTTPError:
        if not shutil.which("rabbitmqctl"):
            raise
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )


def _recreate_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{target.database}" with (force)'))
        conn.execute(text(f'create database "{target.database}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def broker_vhost() -> str:
    _recreate_vhost(TEST_VHOST)
    return TEST_VHOST


@pytest.fixture(scope="session")
def amqp_uri(broker_vhost: str) -> str:
    return os.environ["HOCBA_AMQP_URI"]


@pytest.fixture(scope="session")
def service_databases() -> dict[str, str]:
    """Fresh databases for the services that exist, migrated with their real Alembic history."""
    from services.runtime.migrations import upgrade

    urls = {}
    for service in ("gradebook", "transcript", "signing", "sync", "audit"):
        url = _DB.format(service)
        _recreate_database(url)
        upgrade(service, url)
        urls[service] = url
    return urls


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
