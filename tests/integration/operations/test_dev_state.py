"""`make setup` gives each checkout its own development vhost and databases and drops those of checkouts gone, so a
branch's newer migration in one checkout never breaks another's setup (a CI clone's, a colleague's)."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import psycopg
from psycopg import sql

from sandbox.local_stack import claim_dev_state
from services.runtime import http_client
from services.runtime.db import ensure_database

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
API = http_client.client(base_url="http://127.0.0.1:15672/api", auth=("guest", "guest"), timeout=30)
ROOT = Path(__file__).resolve().parents[3]


def _databases(prefix: str) -> dict[str, str]:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "select datname, shobj_description(oid, 'pg_database') from pg_database where datname like %s",
            (f"{prefix}%",),
        ).fetchall()
    return {name: comment for name, comment in rows}


def _vhosts(prefix: str) -> dict[str, str]:
    return {
        v["name"]: v.get("description") for v in API.get("/vhosts").json() if v["name"].startswith(prefix)
    }


def _drop(prefix: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        for name in _databases(prefix):
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    for name in _vhosts(prefix):
        API.delete(f"/vhosts/{name}")
    API.delete(f"/users/{prefix}_gradebook")


def test_each_checkout_gets_its_own_dev_state_and_a_gone_checkouts_is_dropped(tmp_path):
    gone, mine = f"hocba_dev_{secrets.token_hex(3)}", f"hocba_dev_{secrets.token_hex(3)}"
    try:
        # What a CI clone left behind: its databases and vhost, marked with a path that no longer exists.
        ensure_database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{gone}_audit")
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(
                sql.SQL("comment on database {} is {}").format(
                    sql.Identifier(f"{gone}_audit"), str(tmp_path / "removed-clone")
                )
            )
        API.put(f"/vhosts/{gone}", json={"description": str(tmp_path / "removed-clone")}).raise_for_status()
        API.put(f"/users/{gone}_gradebook", json={"password": "x", "tags": ""}).raise_for_status()
        settings = SimpleNamespace(
            db_url=lambda service: f"postgresql+psycopg://postgres@127.0.0.1:5432/{mine}_{service}",
            amqp_uri=f"amqp://guest:guest@127.0.0.1:5672/{mine}",
            rabbit_management_url=MANAGEMENT,
        )

        claim_dev_state(settings, f"postgresql+psycopg://postgres@127.0.0.1:5432/{mine}_gateway")

        assert _databases(gone) == {} and _vhosts(gone) == {}
        assert API.get(f"/users/{gone}_gradebook").status_code == 404
        names = {"gradebook", "transcript", "signing", "sync", "audit", "gateway"}
        assert _databases(mine) == {f"{mine}_{n}": str(ROOT) for n in names}
        assert _vhosts(mine) == {mine: str(ROOT)}
    finally:
        _drop(gone)
        _drop(mine)


def test_dev_env_names_this_checkouts_own_vhost_and_databases(tmp_path):
    env = tmp_path / ".env"
    subprocess.run([sys.executable, str(ROOT / "sandbox" / "dev_env.py"), str(env)], cwd=ROOT, check=True)
    values = dict(line.split("=", 1) for line in env.read_text().splitlines())
    vhost = values["HOCBA_AMQP_URI"].rsplit("/", 1)[1]
    assert vhost.startswith("hocba_dev_") and vhost != "hocba_dev_"
    assert values["HOCBA_BROKER_USER_PREFIX"] == f"{vhost}_"
    for name in ("GRADEBOOK", "TRANSCRIPT", "SIGNING", "SYNC", "AUDIT", "GATEWAY"):
        assert values[f"HOCBA_DB_URL_{name}"].endswith(f"/{vhost}_{name.lower()}")
