"""What vendors read: the AsyncAPI document is valid, current, and the envelope is a CloudEvent."""

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import yaml

from contracts.asyncapi import asyncapi_document
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from contracts.registry import EVENT_MODELS

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts"


def schema(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((CONTRACTS / "schemas" / name).read_text()))


def test_asyncapi_document_is_valid_against_the_official_3_0_schema():
    errors = [e.message for e in schema("asyncapi-3.0.0.json").iter_errors(asyncapi_document())]
    assert errors == []


def test_a_broken_document_is_caught():
    doc = asyncapi_document()
    first = next(iter(doc["operations"]))
    doc["operations"][first]["action"] = "subscribe"  # an AsyncAPI 2 verb
    assert list(schema("asyncapi-3.0.0.json").iter_errors(doc))


def test_committed_asyncapi_is_current():
    committed = yaml.safe_load((CONTRACTS / "asyncapi.yaml").read_text())
    assert committed == asyncapi_document(), (
        "run `hocba contracts asyncapi > contracts/asyncapi.yaml` and commit it"
    )


def test_every_event_and_public_projection_is_documented():
    doc = asyncapi_document()
    addresses = {c["address"] for c in doc["channels"].values()}
    for model in EVENT_MODELS:
        assert model.routing_key() in addresses
        if model.PUBLIC_MODEL is not None:
            assert model.ce_type() in addresses


def test_the_envelope_is_a_valid_structured_cloudevent():
    event = AuditRecordedV1(
        service="gradebook",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id="e",
        occurred_at=datetime.now(UTC),
    )
    wire = Envelope.wrap(event, source_service="gradebook", subject="s").wire()
    assert list(schema("cloudevents-1.0.json").iter_errors(wire)) == []
    del wire["id"]  # required by CloudEvents
    assert list(schema("cloudevents-1.0.json").iter_errors(wire))
