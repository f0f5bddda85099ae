"""Contracts: the envelope round-trips as plain JSON, producers are strict, consumers tolerant."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from contracts import EVENT_MODELS, Envelope, model_for_type, parse_envelope
from contracts.audit import AuditRecordedV1
from contracts.gradebook import ClassSnapshot, StudentRecord, TermLockedV1
from tests import factories


def term_locked() -> TermLockedV1:
    return factories.term_locked(
        ClassSnapshot(
            students=[StudentRecord(student_id="st-1", full_name="Nguyễn Văn An")],
            subjects=[],
            content_hash="ab" * 32,
        ),
        class_name="8A1",
        grade=8,
        locked_by="principal-1",
        locked_at=datetime(2026, 5, 20, 8, 30, tzinfo=UTC),
    )


def test_envelope_round_trips_through_json_with_plain_types():
    envelope = Envelope.wrap(term_locked(), source_service="gradebook", subject="class/c1")
    wire = envelope.wire()
    text = json.dumps(wire)  # would raise on a datetime/UUID left in
    assert wire["id"] == str(envelope.id) and isinstance(wire["time"], str)
    assert "__type__" not in text
    back = parse_envelope(TermLockedV1, json.loads(text))
    assert back == envelope
    assert back.type == "vn.hocba.gradebook.term.locked.v1" and back.schema_version == 1
    assert back.source == "/hocba/gradebook"


def test_every_event_model_names_its_major_version_in_type_and_payload():
    for model in EVENT_MODELS:
        assert model.ce_type().endswith(f".v{model.VERSION}")
        assert model_for_type(model.ce_type()) is model
        assert model.model_fields["schema_version"].default == model.VERSION


def test_producer_cannot_send_an_unknown_field():
    data = term_locked().model_dump(mode="json")
    data["surprise"] = 1
    with pytest.raises(ValidationError, match="unknown field"):
        TermLockedV1.model_validate(data)


def test_consumer_ignores_fields_added_later_in_the_same_major_version():
    wire = Envelope.wrap(term_locked(), source_service="gradebook").wire()
    wire["newattr"] = "x"
    wire["data"]["added_in_1_1"] = True
    wire["data"]["snapshot"]["students"][0]["nickname"] = "Bin"
    parsed = parse_envelope(TermLockedV1, wire)
    assert parsed.data.snapshot.students[0].full_name == "Nguyễn Văn An"


def test_public_view_carries_no_names_or_personal_data():
    public = term_locked().public_view()
    dumped = json.dumps(public.model_dump(mode="json"), ensure_ascii=False)
    assert "Nguyễn" not in dumped and "st-1" not in dumped
    assert public.student_count == 1


def test_audit_event_is_internal_only():
    event = AuditRecordedV1(
        service="gradebook",
        actor_id="u",
        actor_role="principal",
        action="term.lock",
        entity_type="class_term",
        entity_id="c1",
        occurred_at=datetime.now(UTC),
    )
    assert event.public_view() is None
    assert uuid.UUID(str(Envelope.wrap(event, source_service="gradebook").id))
