"""A school year's signing rows for the year-end archive: the signings, their steps, sealed documents, certificates.

Half-done deferred signatures travel too, so a year restored before it was finished can be finished. Signers'
certificates (public) and content-addressed documents are restored only when absent.
"""

from __future__ import annotations

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from services.runtime.archive import Rows, any_row, fetch, restorer, values_of
from services.signing.store.tables import certificates, documents, pending, records, steps

# In foreign-key order; True for rows shared by school years.
TABLES: tuple[tuple[Table, bool], ...] = (
    (certificates, True),
    (documents, True),
    (records, False),
    (steps, False),
    (pending, False),
)


def rows_for(session: Session, school_id: str, school_year: str) -> dict[str, Rows]:
    signings = fetch(
        session,
        select(records).where(records.c.school_id == school_id, records.c.school_year == school_year),
        records,
    )
    ids = values_of(signings, "year_record_id")
    year_steps = fetch(session, select(steps).where(steps.c.year_record_id.in_(ids)), steps)
    hashes = sorted(
        {
            row[key]
            for row in signings
            for key in ("pdf_sha256", "xml_sha256", "record_xml_sha256")
            if row[key]
        }
    )
    signers = values_of(year_steps, "signer_id")
    return {
        "signer_certificates": fetch(
            session,
            select(certificates).where(
                or_(certificates.c.signer_id.in_(signers), certificates.c.school_id == school_id)
            ),
            certificates,
        ),
        "documents": fetch(session, select(documents).where(documents.c.sha256.in_(hashes)), documents),
        "signing_records": signings,
        "signing_steps": year_steps,
        "pending_signatures": fetch(
            session, select(pending).where(pending.c.year_record_id.in_(ids)), pending
        ),
    }


def held(session: Session, school_id: str, school_year: str) -> list[str]:
    where = (records.c.school_id == school_id, records.c.school_year == school_year)
    return ["signing_records"] if any_row(session, records, *where) else []


restore = restorer(TABLES)
