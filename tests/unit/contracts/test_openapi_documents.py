"""What API clients read: each service's committed OpenAPI 3.1 document is the one its route table generates."""

import json
from pathlib import Path

import pytest

from cli.fuzz.run import SERVICES, routes_of
from services.runtime.openapi import openapi_document

OPENAPI = Path(__file__).resolve().parents[3] / "contracts" / "openapi"


@pytest.mark.parametrize("service", SERVICES)
def test_committed_openapi_document_is_current(service):
    committed = json.loads((OPENAPI / f"{service}.json").read_text(encoding="utf-8"))
    generated = openapi_document(f"Học bạ số — {service}", "1.0.0", routes_of(service))
    assert committed == generated, "run `hocba contracts openapi` and commit the result"
    assert committed["openapi"] == "3.1.0"


def test_a_stale_document_is_caught():
    routes = routes_of("signing")[1:]  # a route the committed document has and the table no longer does
    committed = json.loads((OPENAPI / "signing.json").read_text(encoding="utf-8"))
    assert committed != openapi_document("Học bạ số — signing", "1.0.0", routes)
