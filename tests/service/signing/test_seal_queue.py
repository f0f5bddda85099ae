"""The seal timer's queue: a record whose seal fails is postponed, counted and reported stuck; the others are sealed.

Records are registered the way the service does (FakeDocuments as the transcript), then handed to ``seal_waiting``
with a sealer that refuses one school's records as pyHanko or a TSA would.
"""

from __future__ import annotations

import uuid

import pkcs11
import pytest
from sqlalchemy import delete, text, update

from contracts.signing import TranscriptSealedV1
from services.runtime.documents import FakeDocuments
from services.runtime.metrics import SEALS_STUCK
from services.signing.adapters.sealer import Sealer
from services.signing.app.queries import school_readiness
from services.signing.app.sealing import STUCK_AFTER, seal_waiting
from services.signing.app.unit_of_work import SigningUnitOfWork
from services.signing.domain.errors import SealUnavailable
from services.signing.domain.model import Step
from services.signing.store.tables import records
from tests.service.signing.test_register_record import assembled, register, stored
from tests.service.support import database, published, units_of_work

pytestmark = pytest.mark.integration  # the signing database only

engine = database("signing")
BROKEN = "thcs-hong"  # the school whose records the sealer cannot seal


class FlakySealer:
    """Seals by appending a marker, except for BROKEN's records: there it fails like a document pyHanko refuses."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def seal(self, school_id: str, step: Step, pdf: bytes, package: bytes) -> tuple[bytes, bytes]:
        self.calls.append(school_id)
        if school_id == BROKEN:
            raise RuntimeError("ByteRange payload larger than expected")
        return pdf + b"%sealed", package


@pytest.fixture(autouse=True)
def nothing_waiting(engine):
    with engine.begin() as conn:
        conn.execute(delete(records).where(records.c.status == "sealing"))


def waiting_for_the_seal(engine, opened, school_id: str, reporting_path: str = "regular") -> str:
    source = FakeDocuments()
    delivery = assembled(source, school_id=school_id, reporting_path=reporting_path)
    assert register(delivery, engine, opened, source)
    with engine.begin() as conn:
        conn.execute(
            update(records)
            .where(records.c.year_record_id == delivery.data.year_record_id)
            .values(status="sealing", updated_at=text("now() - interval '1 minute'"))
        )
    return delivery.data.year_record_id


def due_again(engine, year_record_id: str) -> None:
    """The postponement has passed (instead of waiting minutes for it)."""
    with engine.begin() as conn:
        conn.execute(
            update(records)
            .where(records.c.year_record_id == year_record_id)
            .values(updated_at=text("now() - interval '1 second'"))
        )


def test_a_failing_record_is_postponed_counted_and_reported_while_the_others_are_sealed(engine):
    opened: list[SigningUnitOfWork] = []
    new_uow = units_of_work(SigningUnitOfWork, engine, opened)
    broken = waiting_for_the_seal(engine, opened, BROKEN)  # the oldest: first in line
    good = [
        waiting_for_the_seal(engine, opened, f"thcs-{uuid.uuid4().hex[:6]}", path)
        for path in ("regular", "supplementary")
    ]
    sealer = FlakySealer()

    assert seal_waiting(new_uow, sealer) == 2
    assert sealer.calls[0] == BROKEN  # it was tried first and did not hold the others
    assert all(stored(engine, r).status == "sealed" for r in good)
    sealed = {
        e.data.year_record_id: e.data for e in published(opened) if isinstance(e.data, TranscriptSealedV1)
    }
    assert sorted(sealed) == sorted(good)
    # The path assembled with the record is announced with its seal (sync reports it on that path).
    assert [sealed[r].reporting_path for r in good] == ["regular", "supplementary"]
    failed = stored(engine, broken)
    assert (failed.status, failed.seal_attempts) == ("sealing", 1)
    assert failed.seal_error == "RuntimeError: ByteRange payload larger than expected"

    # Postponed: the next rounds do not retry it in a loop.
    calls = len(sealer.calls)
    assert seal_waiting(new_uow, sealer) == 0 and len(sealer.calls) == calls
    # Each failure waits longer (30 s, then 60 s…); past STUCK_AFTER failures it is reported.
    waits = []
    for _ in range(STUCK_AFTER - 1):
        due_again(engine, broken)
        seal_waiting(new_uow, sealer)
        row = stored(engine, broken)
        with engine.connect() as conn:
            waits.append(
                conn.execute(text("select extract(epoch from :t - now())"), {"t": row.updated_at}).scalar()
            )
    assert stored(engine, broken).seal_attempts == STUCK_AFTER
    assert 50 < waits[0] < 61 and 110 < waits[1] < 121, waits
    assert SEALS_STUCK._value.get() == 1
    report = school_readiness(new_uow, BROKEN, "06-30")
    assert [(s["year_record_id"], s["attempts"]) for s in report["stuck_seals"]] == [(broken, STUCK_AFTER)]
    assert school_readiness(new_uow, "thcs-khac", "06-30")["stuck_seals"] == []  # another school sees nothing


class DeadSession:
    """SealKeys whose PKCS#11 session died (the HSM restarted): every call fails until ``reset``."""

    def __init__(self) -> None:
        self.resets = 0

    def certificate(self, school_id: str):
        raise pkcs11.exceptions.SessionHandleInvalid()

    def reset(self) -> None:
        self.resets += 1


def test_a_lost_hsm_session_is_reset_so_the_next_try_opens_a_new_one():
    keys = DeadSession()
    sealer = Sealer(keys, None, None, [], ())  # type: ignore[arg-type]
    with pytest.raises(SealUnavailable, match="SessionHandleInvalid"):
        sealer.seal("thcs-a", Step(5, "school_seal", "f5", "thcs-a", "Trường"), b"", b"")
    assert keys.resets == 1
