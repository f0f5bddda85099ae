"""Read side: what waits for whom, readiness before the cutoff, the documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.runtime.calendar import vietnam_today
from services.signing.app.deferred import Caller
from services.signing.app.handlers import UowFactory
from services.signing.app.sealing import STUCK_AFTER
from services.signing.domain.errors import UnknownRecord
from services.signing.domain.readiness import cutoff_for, readiness


def waiting_for(new_uow: UowFactory, caller: Caller, class_id: str | None) -> list[dict[str, Any]]:
    """The caller's steps whose turn it is, among those their token's role lets them sign.

    Each item carries the step's number twice: ``step_order`` as stored and, last, ``order``, the name a batch's
    ``records`` take (the signing client sends it back); both stay, so the body is the one clients know.
    """
    with new_uow() as uow:
        return [
            {**asdict(step), "order": step.step_order}
            for step in uow.signing.waiting_for(caller.user_id, caller.school_id, class_id)
            if caller.may_take(step.role, step.on_behalf_of)
        ]


def school_readiness(new_uow: UowFactory, school_id: str, cutoff_month_day: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    with new_uow() as uow:
        progress = uow.signing.school_progress(school_id)
        signers = uow.signing.signers_of(school_id)
        years = uow.signing.school_years(school_id)
        report = readiness(
            progress,
            uow.signing.unsigned_steps(school_id),
            signers,
            uow.signing.certificates_of([s.signer_id for s in signers]),
            uow.signing.signed_since(school_id, now - timedelta(hours=1)),
            cutoff_for(
                years[-1] if years else _school_year_ending(vietnam_today(lambda: now)), cutoff_month_day
            ),
            now,
        )
        stuck = [
            {
                "year_record_id": r.year_record_id,
                "class_id": r.class_id,
                "attempts": r.seal_attempts,
                "last_error": r.seal_error,
                "next_try": r.next_try.isoformat(),
            }
            for r in uow.signing.stuck_seals(school_id, after=STUCK_AFTER)
        ]
    return {"school_id": school_id, **report, "stuck_seals": stuck}


def _school_year_ending(today: date) -> str:
    """The school year that ends in ``today``'s calendar year ("2025-2026" in 2026): a school with no record yet."""
    return f"{today.year - 1}-{today.year}"


RECORD_NOT_FOUND = "Không tìm thấy bản ghi học bạ."


def record_document(
    new_uow: UowFactory, year_record_id: str, kind: str, permit: Callable[[str, frozenset[str]], None]
) -> tuple[bytes, str]:
    """The record as signed so far (sealed once sealed): content and media type.

    ``permit(school_id, signer_ids)`` sees the record's school and the people its plan names before any document
    is read, and raises to refuse; it answers another school's record like an unknown one (same words, no id).
    """
    with new_uow() as uow:
        record = uow.signing.record(year_record_id)
        if record is None:
            raise UnknownRecord(RECORD_NOT_FOUND)
        permit(record.school_id, frozenset(s.signer_id for s in uow.signing.plan(year_record_id).steps))
        if kind == "pdf":
            return record.pdf, "application/pdf"
        return record.xml_package, "application/xml"


def document(new_uow: UowFactory, sha256: str) -> tuple[bytes, str]:
    with new_uow() as uow:
        found = uow.documents.get(sha256)
    if found is None:
        raise UnknownRecord(f"Không có tài liệu {sha256}.")
    return found
