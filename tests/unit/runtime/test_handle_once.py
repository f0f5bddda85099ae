"""The order of consuming, without broker or database: bind, open, claim, handle, commit; nothing kept on failure."""

from datetime import UTC, datetime

import pytest
import structlog

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.runtime.consume import handle_once


class RecordingUnitOfWork:
    """A unit of work over a set of claims, logging what the runtime does to it (and what is bound to the log)."""

    def __init__(self, claims: set[tuple[str, str]], steps: list[str], correlation_id: str | None) -> None:
        self.claims, self.steps, self.correlation_id = claims, steps, correlation_id
        self._claimed: set[tuple[str, str]] = set()

    def __enter__(self) -> "RecordingUnitOfWork":
        self.steps.append("open")
        return self

    def __exit__(self, *exc: object) -> None:
        self.steps.append("close")
        self._claimed = set()  # what was not committed is gone

    def first_delivery(self, consumer: str, event_id: object) -> bool:
        key = (consumer, str(event_id))
        self.steps.append("claim")
        if key in self.claims:
            return False
        self._claimed.add(key)
        return True

    def commit(self) -> None:
        self.steps.append("commit")
        self.claims |= self._claimed


def envelope() -> Envelope[AuditRecordedV1]:
    event = AuditRecordedV1(
        service="emitter",
        actor_id="u",
        actor_role="teacher",
        action="x",
        entity_type="t",
        entity_id="e",
        occurred_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, source_service="emitter", correlation_id="req-7")


def test_an_event_is_claimed_before_its_handler_and_committed_after_and_a_redelivery_skips_it():
    claims: set[tuple[str, str]] = set()
    steps: list[str] = []
    opened_with: list[str | None] = []

    def unit_of_work(*, correlation_id: str | None = None) -> RecordingUnitOfWork:
        opened_with.append(correlation_id)
        return RecordingUnitOfWork(claims, steps, correlation_id)

    def handler(env: Envelope[AuditRecordedV1], uow: RecordingUnitOfWork) -> None:
        bound = structlog.contextvars.get_contextvars()
        steps.append(f"handle {bound['event_id'] == str(env.id)} {bound['correlation_id']}")

    delivered = envelope()
    assert handle_once(delivered, "probe.record", unit_of_work, handler)
    assert not handle_once(delivered, "probe.record", unit_of_work, handler)
    assert steps == ["open", "claim", "handle True req-7", "commit", "close", "open", "claim", "close"]
    assert opened_with == ["req-7", "req-7"]
    assert claims == {("probe.record", str(delivered.id))}
    assert "correlation_id" not in structlog.contextvars.get_contextvars()  # unbound after


def test_a_handler_that_raises_leaves_no_claim_and_the_exception_reaches_the_entry_point():
    claims: set[tuple[str, str]] = set()
    steps: list[str] = []

    def failing(env: Envelope[AuditRecordedV1], uow: RecordingUnitOfWork) -> None:
        raise RuntimeError("bug")

    delivered = envelope()
    with pytest.raises(RuntimeError, match="bug"):
        handle_once(
            delivered, "probe.record", lambda **ids: RecordingUnitOfWork(claims, steps, None), failing
        )
    assert steps == ["open", "claim", "close"]
    assert claims == set()
    assert handle_once(
        delivered, "probe.record", lambda **ids: RecordingUnitOfWork(claims, steps, None), print
    )


def test_a_service_that_consumes_without_a_unit_of_work_refuses_to_start():
    from nameko.containers import ServiceContainer

    from services.runtime.handlers import reliable_handler

    class Forgetful:
        name = "forgetful"

        @reliable_handler("emitter", AuditRecordedV1, consumer="forgetful.record")
        def on_event(self, envelope, uow):
            raise AssertionError("never reached")

    container = ServiceContainer(Forgetful, {"AMQP_URI": "memory://"})
    with pytest.raises(TypeError, match="defines no unit_of_work"):
        container.start()
