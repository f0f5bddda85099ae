"""Transcript storage: học bạ rows, year records, and a content-addressed document store (Postgres by default)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.runtime.documents import PostgresDocuments as RuntimeDocuments
from services.transcript.domain.model import (
    LatestYear,
    ListedRecord,
    StudentKeys,
    Transcript,
    YearRecordVersion,
)
from services.transcript.store.tables import (
    amendments,
    documents,
    handovers,
    transcripts,
    year_records,
)


class PostgresDocuments(RuntimeDocuments):
    def __init__(self, session: Session) -> None:
        super().__init__(session, documents)


class TranscriptRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def transcript_for(
        self,
        school_id: str,
        student_id: str,
        level: str,
        moet_code: str | None,
        lookup_code: str,
        personal_id_enc: bytes | None = None,
    ) -> Transcript:
        """The school's học bạ of the student for the level, created once (concurrent creators meet on the key).

        ``lookup_code`` is taken only by a học bạ created here: one that exists keeps the code its records print
        (``app.handover.lookup_code_for`` picks it: a new one, or the code a transfer handed over).

        Tenancy, decided here for every caller (the digitised-year route and the year's lock): a student id is the
        school's own, as person ids are in signing (the same id at another school is another person), so the học bạ
        is found by (school, student, level) and nothing else. A school naming an id that another school uses is
        answered exactly as for an id nobody uses: it gets a new học bạ of its own (on the digitised route, 201 with
        its own lookup code), and the other school's học bạ is neither returned nor touched. Refusing such an id
        with gradebook's 404 for another school's ids would not do here: an unknown student id is accepted (201),
        so a 404 would tell the caller that the id is taken. A conflict on the year (409) can now only come from
        the caller's own học bạ. A học bạ changes school only by a transfer (``handovers``), which links the
        receiving school's own học bạ to the sending school's last record and gives it the same lookup code (the
        student's, for life); each school's row and records stay that school's.
        """
        self.session.execute(
            pg_insert(transcripts)
            .values(
                id=f"hb-{uuid.uuid4().hex[:16]}",
                school_id=school_id,
                student_id=student_id,
                level=level,
                lookup_code=lookup_code,
                moet_code=moet_code,
                personal_id_enc=personal_id_enc,
            )
            .on_conflict_do_nothing(index_elements=["school_id", "student_id", "level"])
        )
        row = self.session.execute(
            select(transcripts).where(
                transcripts.c.school_id == school_id,
                transcripts.c.student_id == student_id,
                transcripts.c.level == level,
            )
        ).one()
        return Transcript(**row._mapping)

    def latest_record(
        self, transcript_id: str, school_year: str, *, lock: bool = False
    ) -> YearRecordVersion | None:
        """The year's latest version; ``lock`` holds it until commit, so two builders of a new version take turns."""
        stmt = (
            select(year_records)
            .where(year_records.c.transcript_id == transcript_id, year_records.c.school_year == school_year)
            .order_by(year_records.c.version.desc())
            .limit(1)
        )
        if lock:
            stmt = stmt.with_for_update()
        row = self.session.execute(stmt).first()
        return YearRecordVersion(**row._mapping) if row else None

    def previous_year_xml(self, transcript_id: str, school_year: str) -> str | None:
        """sha256 of the latest record of the year before: the link between a student's years."""
        row = self.session.execute(
            select(year_records.c.xml_sha256)
            .where(
                year_records.c.transcript_id == transcript_id,
                year_records.c.school_year < school_year,
                year_records.c.status.notin_(("superseded",)),
            )
            .order_by(year_records.c.school_year.desc(), year_records.c.version.desc())
            .limit(1)
        ).first()
        return row.xml_sha256 if row else None

    def last_record(self, transcript_id: str) -> LatestYear | None:
        row = self.session.execute(
            select(year_records.c.school_year, year_records.c.xml_sha256)
            .where(
                year_records.c.transcript_id == transcript_id,
                year_records.c.status.notin_(("superseded",)),
            )
            .order_by(year_records.c.school_year.desc(), year_records.c.version.desc())
            .limit(1)
        ).first()
        return LatestYear(**row._mapping) if row else None

    def transcript(self, transcript_id: str, school_id: str) -> Transcript | None:
        """The học bạ if ``school_id`` keeps it; another school's reads as unknown."""
        row = self.session.execute(
            select(transcripts).where(transcripts.c.id == transcript_id, transcripts.c.school_id == school_id)
        ).first()
        return Transcript(**row._mapping) if row else None

    def add_handover(self, values: dict[str, Any]) -> None:
        self.session.execute(pg_insert(handovers).values(**values).on_conflict_do_nothing())

    def handed_over(self, school_id: str, student: StudentKeys, school_year: str) -> str | None:
        """The earlier school's last sealed record of a student transferred here (``_names``: by MOET code or
        personal ID)."""
        names = _names(student)
        if names is None:
            return None
        row = self.session.execute(
            select(handovers.c.previous_record_sha256)
            .where(
                handovers.c.to_school == school_id,
                names,
                handovers.c.school_year < school_year,
            )
            .order_by(handovers.c.school_year.desc())
            .limit(1)
        ).first()
        return row.previous_record_sha256 if row else None

    def handed_over_code(self, school_id: str, student: StudentKeys, level: str) -> str | None:
        """The lookup code of the student's học bạ last handed over to this school at this level (matched as
        ``handed_over`` matches); None when no handover names one."""
        names = _names(student)
        if names is None:
            return None
        return self.session.execute(
            select(handovers.c.lookup_code)
            .where(
                handovers.c.to_school == school_id,
                names,
                handovers.c.level == level,
                handovers.c.lookup_code.is_not(None),
            )
            .order_by(handovers.c.school_year.desc(), handovers.c.received_at.desc())
            .limit(1)
        ).scalar_one_or_none()

    def add_record(self, values: dict[str, Any]) -> None:
        self.session.execute(pg_insert(year_records).values(**values))

    def set_status(self, record_id: str, status: str) -> None:
        self.session.execute(
            update(year_records)
            .where(year_records.c.id == record_id)
            .values(status=status, status_at=func.now())
        )

    def records(
        self,
        school_id: str,
        *,
        student_id: str | None = None,
        lookup_code: str | None = None,
        teacher_id: str | None = None,
    ) -> list[ListedRecord]:
        """The school's year records; with ``teacher_id``, only those whose header names that teacher."""
        stmt = (
            select(year_records, transcripts.c.lookup_code, transcripts.c.student_id, transcripts.c.level)
            .join(transcripts, transcripts.c.id == year_records.c.transcript_id)
            .where(year_records.c.school_id == school_id, transcripts.c.school_id == school_id)
            .order_by(year_records.c.school_year, year_records.c.version)
        )
        if student_id:
            stmt = stmt.where(transcripts.c.student_id == student_id)
        if lookup_code:
            stmt = stmt.where(transcripts.c.lookup_code == lookup_code)
        if teacher_id is not None:
            stmt = stmt.where(year_records.c.header.contains({"teacher_ids": [teacher_id]}))
        return [
            ListedRecord(
                YearRecordVersion(**{c.name: r._mapping[c] for c in year_records.c}),
                r.lookup_code,
                r.student_id,
                r.level,
            )
            for r in self.session.execute(stmt)
        ]

    def record(self, record_id: str, school_id: str | None = None) -> YearRecordVersion | None:
        """A year record by id; with ``school_id``, only that school's (another school's reads as unknown).

        Without it (the document route) the caller's ``permit`` decides, so that an operator can read any school's.
        """
        stmt = select(year_records).where(year_records.c.id == record_id)
        if school_id is not None:
            stmt = stmt.where(year_records.c.school_id == school_id)
        row = self.session.execute(stmt).first()
        return YearRecordVersion(**row._mapping) if row else None

    # amendments ------------------------------------------------------------------------------------------------
    def keep_amendment(
        self,
        amendment_id: str,
        *,
        school_id: str,
        class_id: str,
        school_year: str,
        student_id: str,
        approved_at: datetime,
        event: dict[str, Any],
    ) -> None:
        """Keep an approved amendment as received (once: a redelivery changes nothing)."""
        self.session.execute(
            pg_insert(amendments)
            .values(
                amendment_id=amendment_id,
                school_id=school_id,
                class_id=class_id,
                school_year=school_year,
                student_id=student_id,
                approved_at=approved_at,
                event=event,
            )
            .on_conflict_do_nothing()
        )

    def latest_amendment(
        self, school_id: str, class_id: str, school_year: str, approved_after: datetime
    ) -> dict[str, Any] | None:
        """The class's amendment approved last, if after ``approved_after``: its event as received."""
        event = self.session.execute(
            select(amendments.c.event)
            .where(
                amendments.c.school_id == school_id,
                amendments.c.class_id == class_id,
                amendments.c.school_year == school_year,
                amendments.c.approved_at > approved_after,
            )
            .order_by(amendments.c.approved_at.desc(), amendments.c.amendment_id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return None if event is None else dict(event)


def _names(student: StudentKeys) -> ColumnElement[bool] | None:
    """A handover row naming ``student``: the same MOET code, or the same keyed hash of the personal ID (a student
    without a code yet); None when the student has neither, so nothing can name them."""
    conditions = []
    if student.moet_code:
        conditions.append(handovers.c.moet_code == student.moet_code)
    if student.personal_id_hashes:
        conditions.append(handovers.c.personal_id_hash.in_(student.personal_id_hashes))
    return or_(*conditions) if conditions else None
