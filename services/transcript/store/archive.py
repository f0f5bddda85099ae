"""A school year's transcript rows for the year-end archive: its year records, their học bạ and documents.

The học bạ (``transcripts``) spans years and documents are content-addressed, so both are restored only when absent.
The ``amendments`` kept from gradebook's events are not archived here: gradebook's archive holds the amendments
themselves, and the copies only guard a replay of the year's lock while the year is live.
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from services.runtime.archive import Rows, any_row, fetch, restorer, values_of
from services.transcript.store.tables import documents, handovers, transcripts, year_records

# In foreign-key order; True for rows shared by school years.
TABLES: tuple[tuple[Table, bool], ...] = (
    (transcripts, True),
    (documents, True),
    (year_records, False),
    (handovers, False),
)


def rows_for(session: Session, school_id: str, school_year: str) -> dict[str, Rows]:
    records = fetch(
        session,
        select(year_records).where(
            year_records.c.school_id == school_id, year_records.c.school_year == school_year
        ),
        year_records,
    )
    transcript_ids = values_of(records, "transcript_id")
    hashes = sorted(set(values_of(records, "xml_sha256")) | set(values_of(records, "pdf_sha256")))
    return {
        "transcripts": fetch(
            session, select(transcripts).where(transcripts.c.id.in_(transcript_ids)), transcripts
        ),
        "documents": fetch(session, select(documents).where(documents.c.sha256.in_(hashes)), documents),
        "year_records": records,
        "handovers": fetch(
            session,
            select(handovers).where(
                handovers.c.transcript_id.in_(transcript_ids), handovers.c.school_year == school_year
            ),
            handovers,
        ),
    }


def held(session: Session, school_id: str, school_year: str) -> list[str]:
    where = (year_records.c.school_id == school_id, year_records.c.school_year == school_year)
    return ["year_records"] if any_row(session, year_records, *where) else []


restore = restorer(TABLES)
