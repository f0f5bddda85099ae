"""`hocba broker setup` creates a user per service, per relay and per vendor, with exactly its row of the table."""

import shutil
import subprocess

import pytest
from kombu import Connection
from typer.testing import CliRunner

from cli.main import app
from cli.registry import SERVICES
from cli.stack import as_own_broker_user
from services.runtime import http_client
from services.runtime.broker_access import table_for, user_name
from services.runtime.settings import get_settings
from tests.conftest import RUN

pytestmark = pytest.mark.integration

API = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")


@pytest.fixture(scope="module")
def table(amqp_uri):
    settings = get_settings()
    return table_for([e.load() for e in SERVICES.values()], SERVICES, settings)


@pytest.fixture(scope="module")
def set_up(amqp_uri, broker_vhost, table):
    """`hocba broker setup`, twice (idempotent), on this module's vhost; the users go at the module's end (the run's
    end deletes any left, tests/conftest.py)."""
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["broker", "setup"])
        assert result.exit_code == 0, result.output
    yield broker_vhost
    settings = get_settings()
    with http_client.client(base_url=API, auth=AUTH, timeout=10) as api:
        for principal in table:
            api.delete(f"/users/{user_name(principal, settings)}")


def test_setup_creates_a_user_per_service_relay_and_vendor_with_exactly_its_row(set_up, table):
    settings = get_settings()
    expected = {f"{RUN}_{s}" for s in SERVICES} | {f"{RUN}_{s}-relay" for s in SERVICES}
    expected |= {f"{RUN}_vendor-{v}" for v in settings.broker_vendors}
    assert {user_name(p, settings) for p in table} == expected
    with http_client.client(base_url=API, auth=AUTH, timeout=10) as api:
        permissions = {
            p["user"]: p for p in api.get(f"/vhosts/{set_up}/permissions").json() if p["user"] in expected
        }
        topics = api.get(f"/vhosts/{set_up}/topic-permissions").json()
    assert set(permissions) == expected
    for principal, grant in table.items():
        row = permissions[user_name(principal, settings)]
        assert (row["configure"], row["write"], row["read"]) == (grant.configure, grant.write, grant.read)
        assert sorted(
            (t["exchange"], t["write"], t["read"])
            for t in topics
            if t["user"] == user_name(principal, settings)
        ) == sorted((t.exchange, t.write, t.read) for t in grant.topics)
        if not principal.startswith("vendor-"):
            assert row["write"] != ".*" and row["configure"] != ".*" and row["read"] != ".*", principal
    if shutil.which("rabbitmqctl"):  # what an operator sees
        listed = subprocess.run(
            ["rabbitmqctl", "-q", "list_users"], capture_output=True, text=True, timeout=60
        ).stdout
        assert expected <= {line.split("\t")[0] for line in listed.splitlines()}


def test_each_process_of_a_stack_logs_in_as_its_own_user(set_up):
    """What `hocba up`, the demo and the test stacks start: a service and its relay, each on its own user."""
    env = {"HOCBA_AMQP_URI": get_settings().amqp_uri}
    for args, principal in ((["run", "signing"], "signing"), (["relay", "signing"], "signing-relay")):
        uri = as_own_broker_user(["cli.main", *args], env)["HOCBA_AMQP_URI"]
        assert uri.startswith(f"amqp://{RUN}_{principal}:") and uri.endswith(f"/{set_up}")
        with Connection(uri) as conn:
            conn.ensure_connection(max_retries=1)
