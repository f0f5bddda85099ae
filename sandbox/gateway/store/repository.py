"""Queries on the gateway's tables (SQLAlchemy Core on one connection; the caller owns the transaction)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from sandbox.gateway.store.tables import (
    documents,
    idempotency_keys,
    record_accesses,
    records,
    submission_log,
    transfers,
    verifications,
)

Row = dict[str, Any]


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def put_document(conn: Connection, content: bytes, media_type: str) -> str:
    digest = sha256(content)
    conn.execute(
        insert(documents)
        .values(sha256=digest, media_type=media_type, content=content)
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return digest


def document(conn: Connection, digest: str) -> bytes | None:
    content = conn.execute(select(documents.c.content).where(documents.c.sha256 == digest)).scalar()
    return None if content is None else bytes(content)


def put_verification(
    conn: Connection, pdf_sha256: str, passed: bool, detailed: bool, signatures: list[Row], at: datetime
) -> None:
    conn.execute(
        insert(verifications)
        .values(
            pdf_sha256=pdf_sha256, passed=passed, detailed=detailed, signatures=signatures, verified_at=at
        )
        .on_conflict_do_nothing(index_elements=["pdf_sha256"])
    )


def verification(conn: Connection, pdf_sha256: str) -> Row | None:
    row = conn.execute(select(verifications).where(verifications.c.pdf_sha256 == pdf_sha256)).first()
    return None if row is None else dict(row._mapping)


def claim_key(
    conn: Connection, school_id: str, key: str, operation: str, request_sha256: str, now: datetime
) -> Row | None:
    """Claim ``key`` for this request, or return the row of whoever holds it.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent holder's transaction, so a racing duplicate sees the
    committed response (or, if the first one was rolled back, claims the key itself).
    """
    claimed = conn.execute(
        insert(idempotency_keys)
        .values(
            school_id=school_id,
            key=key,
            operation=operation,
            request_sha256=request_sha256,
            status_code=0,
            response={},
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    ).first()
    if claimed is not None:
        return None
    row = conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.school_id == school_id, idempotency_keys.c.key == key
        )
    ).first()
    return None if row is None else dict(row._mapping)


def keep_response(conn: Connection, school_id: str, key: str, status_code: int, response: Row) -> None:
    conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.school_id == school_id, idempotency_keys.c.key == key)
        .values(status_code=status_code, response=response)
    )


def latest_version(conn: Connection, year_record_id: str, *, lock: bool = False) -> Row | None:
    query = (
        select(records)
        .where(records.c.year_record_id == year_record_id)
        .order_by(records.c.version.desc())
        .limit(1)
    )
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else dict(row._mapping)


def current_of_year(conn: Connection, transcript_id: str, school_year: str) -> Row | None:
    """The student's current record for a school year, whatever id its versions carry."""
    query = select(records).where(
        records.c.transcript_id == transcript_id,
        records.c.school_year == school_year,
        records.c.status == "current",
    )
    row = conn.execute(query.limit(1)).first()
    return None if row is None else dict(row._mapping)


def lock_year_record(conn: Connection, year_record_id: str) -> None:
    """Serialise changes to one year record for this transaction: two different versions sent at once must not
    both become current (the unique index only stops two copies of the same version)."""
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(year_record_id, 0))))


def record(conn: Connection, record_id: str, *, lock: bool = False) -> Row | None:
    query = select(records).where(records.c.id == record_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else dict(row._mapping)


def insert_record(conn: Connection, row: Row) -> None:
    conn.execute(records.insert().values(**row))


def set_record(conn: Connection, record_id: str, **values: Any) -> None:
    conn.execute(update(records).where(records.c.id == record_id).values(**values))


def _visible(school_id: str) -> Any:
    received = select(transfers.c.transcript_id).where(transfers.c.to_school == school_id)
    return or_(records.c.school_id == school_id, records.c.transcript_id.in_(received))


def visible_record(conn: Connection, school_id: str, record_id: str) -> Row | None:
    row = conn.execute(select(records).where(records.c.id == record_id, _visible(school_id))).first()
    return None if row is None else dict(row._mapping)


def list_records(
    conn: Connection,
    school_id: str,
    *,
    school_year: str | None,
    year_record_id: str | None,
    transcript_id: str | None,
    after_seq: int,
    limit: int,
) -> list[Row]:
    query = select(records).where(_visible(school_id), records.c.seq > after_seq)
    if school_year:
        query = query.where(records.c.school_year == school_year)
    if year_record_id:
        query = query.where(records.c.year_record_id == year_record_id)
    if transcript_id:
        query = query.where(records.c.transcript_id == transcript_id)
    rows = conn.execute(query.order_by(records.c.seq).limit(limit))
    return [dict(r._mapping) for r in rows]


def owns_transcript(conn: Connection, school_id: str, transcript_id: str) -> bool:
    found = conn.execute(
        select(records.c.id)
        .where(records.c.school_id == school_id, records.c.transcript_id == transcript_id)
        .limit(1)
    ).first()
    return found is not None


def add_transfer(conn: Connection, row: Row) -> Row:
    """Once per (transcript, from, to): repeating a transfer returns the first one."""
    conn.execute(insert(transfers).values(**row).on_conflict_do_nothing(constraint="uq_transfers_once"))
    found = conn.execute(
        select(transfers).where(
            transfers.c.transcript_id == row["transcript_id"],
            transfers.c.from_school == row["from_school"],
            transfers.c.to_school == row["to_school"],
        )
    ).one()
    return dict(found._mapping)


def by_lookup_code(conn: Connection, lookup_code: str) -> list[Row]:
    rows = conn.execute(
        select(records)
        .where(records.c.lookup_code == lookup_code)
        .order_by(records.c.school_year, records.c.year_record_id, records.c.version)
    )
    return [dict(r._mapping) for r in rows]


def by_pdf(conn: Connection, pdf_sha256: str) -> list[Row]:
    rows = conn.execute(select(records).where(records.c.pdf_sha256 == pdf_sha256).order_by(records.c.seq))
    return [dict(r._mapping) for r in rows]


def log_outcome(conn: Connection, **values: Any) -> None:
    conn.execute(submission_log.insert().values(**values))


def stats(conn: Connection, year_record_id: str | None = None) -> Row:
    query = select(
        submission_log.c.year_record_id,
        submission_log.c.outcome,
        submission_log.c.reason,
        func.count().label("n"),
    ).group_by(submission_log.c.year_record_id, submission_log.c.outcome, submission_log.c.reason)
    if year_record_id:
        query = query.where(submission_log.c.year_record_id == year_record_id)
    per_record: dict[str, Row] = {}
    totals: dict[str, int] = {"accepted": 0, "replayed": 0, "rejected": 0}
    rejected_by_reason: dict[str, int] = {}
    for yr, outcome, reason, n in conn.execute(query):
        totals[outcome] = totals.get(outcome, 0) + n
        if outcome == "rejected":
            rejected_by_reason[reason] = rejected_by_reason.get(reason, 0) + n
        if yr is None:
            continue
        entry = per_record.setdefault(yr, {"accepted": 0, "replayed": 0, "rejected": 0})
        entry[outcome] = entry.get(outcome, 0) + n
    versions = select(records.c.year_record_id, records.c.version, records.c.status).order_by(
        records.c.year_record_id, records.c.version
    )
    if year_record_id:
        versions = versions.where(records.c.year_record_id == year_record_id)
    for yr, version, status in conn.execute(versions):
        per_record.setdefault(yr, {"accepted": 0, "replayed": 0, "rejected": 0}).setdefault(
            "versions", []
        ).append({"version": version, "status": status})
    totals["records"] = conn.execute(select(func.count()).select_from(records)).scalar() or 0
    return {"year_records": per_record, "totals": totals, "rejected_by_reason": rejected_by_reason}


PORTAL = "portal"  # the organisation of an access through the public portal: nobody is known


def note_access(
    conn: Connection,
    transcript_id: str,
    what: str,
    at: datetime,
    *,
    organisation: str = PORTAL,
    school_year: str | None = None,
    version: int | None = None,
) -> None:
    conn.execute(
        record_accesses.insert().values(
            transcript_id=transcript_id,
            what=what,
            organisation=organisation,
            school_year=school_year,
            version=version,
            at=at,
        )
    )


def accesses(conn: Connection, transcript_ids: list[str]) -> list[Row]:
    """Every access to these học bạ, newest first."""
    rows = conn.execute(
        select(record_accesses)
        .where(record_accesses.c.transcript_id.in_(transcript_ids))
        .order_by(record_accesses.c.at.desc(), record_accesses.c.id.desc())
    )
    return [dict(r._mapping) for r in rows]
