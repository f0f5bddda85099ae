"""The gateway publishes the province's QR trust list byte for byte (readers check its signature themselves)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sandbox.gateway.domain import errors
from sandbox.gateway.settings import GatewaySettings
from sandbox.gateway.trust_list import trust_list


def context(path: Path) -> Any:
    return cast(Any, SimpleNamespace(settings=GatewaySettings(qr_trust_list=str(path))))


def request() -> Request:
    return Request(EnvironBuilder(path="/api/v1/qr/trust-list").get_environ())


def test_the_published_list_is_served_as_signed_and_cacheable(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_bytes(b'{"payload": "e30=", "signature": ""}')
    response = trust_list(context(path), request())
    assert response.status_code == 200 and response.get_data() == path.read_bytes()
    assert response.mimetype == "application/json" and "max-age" in response.headers["Cache-Control"]


def test_no_list_published_yet_is_a_404_problem(tmp_path: Path) -> None:
    with pytest.raises(errors.GatewayError) as raised:
        trust_list(context(tmp_path / "missing.json"), request())
    assert raised.value.status == 404 and raised.value.reason == "trust_list_missing"


def test_the_route_is_public_and_answered_by_the_trust_list_handler() -> None:
    from sandbox.gateway.app import HANDLERS, ROUTES

    endpoint, _ = ROUTES.bind("gateway.test").match("/api/v1/qr/trust-list", method="GET")
    assert HANDLERS[endpoint] is trust_list
