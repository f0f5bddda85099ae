"""Digitising an earlier year: the clerk types a paper học bạ's year into a year record of its own."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from services.runtime.data_key import Sealed
from services.transcript.api import DigitisedRecordIn, TermIn
from services.transcript.app.handlers import Assembly, ClassHeader, publish_record
from services.transcript.app.handover import lookup_code_for, student_keys
from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.domain.effective import effective_date, reporting_path
from services.transcript.domain.errors import TranscriptError
from services.transcript.domain.model import (
    PeriodResult,
    SubjectLine,
    TermMarks,
    YearRecord,
    form_position,
    level_of_grade,
)
from services.transcript.domain.plan import plan_signatures


class YearAlreadyRecorded(TranscriptError):
    http_status = 409
    slug = "year-already-recorded"
    title = "Year already recorded"


def _marks(term: TermIn | None) -> TermMarks | None:
    return (
        None
        if term is None
        else TermMarks(
            tuple(term.regular),
            term.midterm,
            term.final,
            term.average,
            term.level,
            term.test,
            term.result,
            term.comment,
        )
    )


def digitise_record(
    school_id: str, actor_id: str, body: DigitisedRecordIn, uow: TranscriptUnitOfWork, assembly: Assembly
) -> dict[str, Any]:
    """One earlier year into the school's own học bạ of the student (created on first use).

    The student id is the school's own: an id another school uses reaches only this school's học bạ, so the answer
    is the one an unknown id gets (201 and this school's lookup code), never the other school's học bạ, and the
    409 for a year already recorded speaks only of this school's (see ``TranscriptRepository.transcript_for``).
    The people typed in are only the plan: signing lets each step be signed only by a token with the step's role
    at this school (the principal's step by the school's principal).
    """
    lines = tuple(
        sorted(
            (
                SubjectLine(
                    s.code, s.name, s.teacher.id, s.teacher.name, _marks(s.hk1), _marks(s.hk2), s.year
                )
                for s in body.subjects
            ),
            key=lambda line: form_position(line.code),
        )
    )
    departed = frozenset(
        {s.teacher.id for s in body.subjects if s.teacher.left}
        | ({body.homeroom.id} if body.homeroom.left else set())
    )
    plan = plan_signatures(
        lines,
        (body.homeroom.id, body.homeroom.name),
        (body.principal.id, body.principal.name),
        (school_id, body.school_name),
        departed,
    )
    level = level_of_grade(body.grade)
    vault = assembly.vault
    with uow:
        transcript = uow.transcripts.transcript_for(
            school_id,
            body.student.student_id,
            level,
            body.student.moet_code,
            lookup_code_for(
                uow, school_id, student_keys(vault, body.student.moet_code, body.student.personal_id), level
            ),
            vault.encrypt(body.student.personal_id, Sealed.PERSONAL_ID) if body.student.personal_id else None,
        )
        if uow.transcripts.latest_record(transcript.id, body.school_year, lock=True) is not None:
            raise YearAlreadyRecorded(f"Năm học {body.school_year} của học sinh này đã có bản ghi học bạ.")
        path = reporting_path({"year_result": body.year_result, "promotion": body.promotion}, body.grade)
        record = YearRecord(
            lookup_code=transcript.lookup_code,
            transcript_id=transcript.id,
            year_record_id=f"yr-{uuid.uuid4().hex[:16]}",
            version=1,
            school_id=school_id,
            school_name=body.school_name,
            school_level=level,
            school_province=body.school_province,
            student_id=body.student.student_id,
            moet_code=body.student.moet_code,
            full_name=body.student.full_name,
            school_year=body.school_year,
            class_name=body.class_name,
            grade=body.grade,
            circular="tt27" if level == "primary" else "tt22",
            subjects=lines,
            periods=tuple(
                PeriodResult(p, v.learning_result, v.conduct, v.absences, v.homeroom_comment)
                for p, v in sorted(body.periods.items())
            ),
            year_result=body.year_result,
            promotion=body.promotion,
            award=body.award,
            signature_plan=plan,
            previous_record_sha256=uow.transcripts.previous_year_xml(transcript.id, body.school_year),
            personal_id=body.student.personal_id,
            digitised_from=body.source,
            lookup_url=assembly.lookup_url(transcript.lookup_code),
            effective_date=effective_date(body.school_year, path, assembly.cutoffs),
            reporting_path=path,
        )
        header = ClassHeader(
            body.school_name,
            body.school_province,
            "digitised",
            body.class_name,
            body.grade,
            record.circular,
            body.school_year,
            body.principal.id,
            datetime.now(UTC),
            # The teachers of that year still at the school see the record, as the lock's teachers see theirs.
            teacher_ids=tuple(sorted(({line.teacher_id for line in lines} | {body.homeroom.id}) - departed)),
        )
        content_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        publish_record(uow, record, header, content_hash, None, actor=(actor_id, "staff"))
        uow.commit()
    return {
        "year_record_id": record.year_record_id,
        "lookup_code": record.lookup_code,
        "signature_plan": [
            {"order": s.order, "role": s.role, "signer_id": s.signer_id, "on_behalf_of": s.on_behalf_of}
            for s in plan
        ],
    }
