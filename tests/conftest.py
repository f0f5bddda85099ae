"""Test set-up: eventlet first, then a private broker vhost and private databases for this run."""

from services.runtime import green

green.patch()  # before anything imports psycopg or nameko's consumers

import hashlib
import os
import socket
import tempfile
import uuid
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# Per checkout, so that two clones (CI and a developer) running the suite at once never share a vhost or database.
_CHECKOUT = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:6]
TEST_VHOST = os.environ.get("HOCBA_TEST_VHOST", f"hocba_test_{_CHECKOUT}")
_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/hocba_test_" + _CHECKOUT + "_{}"

# Before any module reads settings (they are cached per process; subprocesses inherit these too).
os.environ["HOCBA_ENV"] = "test"
# Tokens: this run's own development issuer (sandbox/issuer.py); services verify against its JWKS file and get
# their service tokens from its token endpoint, served for the session by the `token_issuer` fixture.
_ISSUER = Path(tempfile.gettempdir()) / f"hocba-test-issuer-{_CHECKOUT}"
# Chosen once per run: some tests import this module as ``tests.conftest`` too, which runs it a second time.
_ISSUER_PORT = int(os.environ.setdefault("HOCBA_TEST_ISSUER_PORT", str(_free_port())))
os.environ["HOCBA_DEV_ISSUER_KEY"] = str(_ISSUER / "key.pem")
os.environ["HOCBA_JWKS_FILE"] = str(_ISSUER / "jwks.json")
os.environ.pop("HOCBA_JWKS_URL", None)
os.environ["HOCBA_OAUTH_TOKEN_URL"] = f"http://127.0.0.1:{_ISSUER_PORT}/token"
os.environ["HOCBA_OAUTH_CLIENT_SECRET"] = "test-client-secret-not-for-production"
os.environ["HOCBA_DATA_KEY"] = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 test bytes
os.environ["HOCBA_AMQP_URI"] = f"amqp://guest:guest@127.0.0.1:5672/{TEST_VHOST}"
os.environ["HOCBA_LOG_JSON"] = "true"
for _service in ("gradebook", "transcript", "signing", "sync", "audit"):
    os.environ[f"HOCBA_DB_URL_{_service.upper()}"] = _DB.format(_service)


@pytest.fixture(scope="session", autouse=True)
def token_issuer():
    """The development issuer's token endpoint (client credentials), for services calling each other."""
    from sandbox.issuer import serve_in_thread
    from services.runtime.settings import Settings

    server, url = serve_in_thread(Settings(), _ISSUER_PORT)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def broker_vhost() -> str:
    from services.runtime.broker import recreate_vhost

    recreate_vhost("http://guest:guest@127.0.0.1:15672", TEST_VHOST)
    return TEST_VHOST


@pytest.fixture(scope="session")
def amqp_uri(broker_vhost: str) -> str:
    return os.environ["HOCBA_AMQP_URI"]


@pytest.fixture(scope="session")
def service_databases() -> dict[str, str]:
    """Fresh databases for the services that exist, migrated with their real Alembic history."""
    from services.runtime.db import recreate_database
    from services.runtime.migrations import upgrade

    urls = {}
    for service in ("gradebook", "transcript", "signing", "sync", "audit"):
        url = _DB.format(service)
        recreate_database(url)
        upgrade(service, url)
        urls[service] = url
    return urls


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
