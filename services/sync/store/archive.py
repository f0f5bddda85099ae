"""A school year's submissions to the gateway for the year-end archive.

The school's gateway credentials are a secret and never leave this database: a restored deployment is given its
own (``hocba sync credentials``).
"""

from __future__ import annotations

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from services.runtime.archive import Rows, any_row, fetch, restorer
from services.sync.store.tables import submissions

TABLES: tuple[tuple[Table, bool], ...] = ((submissions, False),)


def rows_for(session: Session, school_id: str, school_year: str) -> dict[str, Rows]:
    where = (submissions.c.school_id == school_id, submissions.c.school_year == school_year)
    return {"submissions": fetch(session, select(submissions).where(*where), submissions)}


def held(session: Session, school_id: str, school_year: str) -> list[str]:
    where = (submissions.c.school_id == school_id, submissions.c.school_year == school_year)
    return ["submissions"] if any_row(session, submissions, *where) else []


restore = restorer(TABLES)
