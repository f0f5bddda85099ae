"""Gateway fixtures: a private database per run, the gateway as a real process, clock and faults reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import RUN
from tests.integration.gateway.support import GatewayProcess

# Named after this run like every test database (tests/conftest.py): two runs never share it, the run drops it.
GATEWAY_DB = f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_gateway"
# A day well before the 2025-2026 cutoffs; each test that crosses one sets its own day.
SCHOOL_DAY = "2026-05-20"


@pytest.fixture(scope="session")
def gateway_db() -> str:
    from services.runtime.db import drop_database

    drop_database(GATEWAY_DB)  # the gateway creates it again on start: that path is tested too
    return GATEWAY_DB


@pytest.fixture(scope="session")
def gateway(gateway_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    server = GatewayProcess(gateway_db).start(tmp_path_factory.mktemp("gateway") / "gateway.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def strict_gateway(
    gateway: GatewayProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """A second gateway on the same database: a verifier that refuses everything and an earlier regular cutoff."""
    server = GatewayProcess(
        gateway.db_url,
        verifier="sandbox.gateway.verifiers:refuse_all",
        env={"GATEWAY_CUTOFF_REGULAR": "05-31"},
    ).start(tmp_path_factory.mktemp("strict") / "gateway.log")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _calm_gateway(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every gateway test starts on a school day with no faults, and leaves it that way."""
    if "gateway" not in request.fixturenames:
        yield
        return
    server: GatewayProcess = request.getfixturevalue("gateway")

    def calm() -> None:
        with server.admin() as admin:
            admin.post("/_admin/faults", json={}).raise_for_status()
            admin.post("/_admin/clock", json={"today": SCHOOL_DAY}).raise_for_status()

    calm()
    yield
    calm()
