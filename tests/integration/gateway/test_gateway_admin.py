"""The gateway's admin API on a port of its own, and no development secrets outside development."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sandbox.ports import free_ports
from services.runtime import http_client
from tests.integration.gateway.support import ADMIN, GatewayProcess


def test_the_public_port_serves_no_admin_api_and_the_admin_port_no_portal(gateway):
    with http_client.client(
        base_url=gateway.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=15
    ) as public:
        for path in ("/_admin/faults", "/_admin/stats", "/_admin/clock"):
            response = public.get(path)
            assert (response.status_code, response.json()["reason"]) == (404, "not_found")
        assert public.post("/_admin/faults", json={"outage_seconds": 0}).status_code == 404
        assert public.get("/healthz").status_code == 200
    with gateway.admin() as admin:
        assert admin.get("/_admin/faults").status_code == 200
        assert admin.get("/").status_code == 404  # the portal is not here
        assert admin.get("/api/v1/records").status_code == 404


def _serve(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    port, admin_port = free_ports(2)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox.gateway",
            "serve",
            "--port",
            str(port),
            "--admin-port",
            str(admin_port),
        ],
        env={**inherited, "HOCBA_ENV": "prod", **env},
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "GATEWAY_SECRET and GATEWAY_ADMIN_TOKEN"),
        ({"GATEWAY_SECRET": "gateway-dev-secret-not-for-production"}, "GATEWAY_SECRET"),
        ({"GATEWAY_SECRET": "s" * 32, "GATEWAY_ADMIN_TOKEN": "gateway-admin-dev"}, "GATEWAY_ADMIN_TOKEN"),
        ({"GATEWAY_SECRET": "s" * 32, "GATEWAY_ADMIN_TOKEN": "short"}, "GATEWAY_ADMIN_TOKEN"),
    ],
)
def test_outside_development_the_gateway_refuses_to_start_with_missing_or_default_secrets(
    tmp_path, env, named
):
    result = _serve(tmp_path, env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to start" in result.stderr and named in result.stderr


def test_outside_development_the_gateway_starts_with_secrets_of_its_own(gateway, tmp_path):
    strong = {"HOCBA_ENV": "prod", "GATEWAY_SECRET": "p" * 40, "GATEWAY_ADMIN_TOKEN": ADMIN + "-long-enough"}
    server = GatewayProcess(gateway.db_url, env=strong).start(tmp_path / "gateway.log")
    try:
        with http_client.client(base_url=server.admin_url, timeout=15) as admin:
            assert admin.get("/_admin/stats", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 401
            own = admin.get(
                "/_admin/stats", headers={"Authorization": f"Bearer {strong['GATEWAY_ADMIN_TOKEN']}"}
            )
            assert own.status_code == 200
    finally:
        server.stop()
