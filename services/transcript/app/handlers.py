"""Transcript use cases: assemble a class's year records when its year is locked; re-assemble after amendments."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, cast

import structlog

from contracts.audit import AuditAction, year_record_version_id
from contracts.gradebook import AmendmentAppliedV1, ClassSnapshot, StudentRecord, TermLockedV1
from contracts.gradebook import TermMarks as TermMarksV1
from contracts.transcript import ReportingPath, SignatureStepV1, TranscriptAssembledV1
from services.runtime.data_key import DataVault, Sealed
from services.transcript.app.handover import lookup_code_for, student_keys
from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.documents import pdf_form, xml_package
from services.transcript.domain.effective import effective_date, reporting_path
from services.transcript.domain.errors import MalformedSnapshot
from services.transcript.domain.model import (
    PeriodResult,
    Status,
    SubjectLine,
    TermMarks,
    YearRecord,
    YearRecordVersion,
    form_position,
    level_of_grade,
)
from services.transcript.domain.plan import plan_signatures

Period = Literal["hk1", "hk2", "year"]
CONSUMER_LOCKED = "transcript.assemble"
CONSUMER_AMENDED = "transcript.amend"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Assembly:
    """What building a year record takes besides its data (the service's bootstrap builds it from settings)."""

    lookup_base_url: str  # the province's public lookup portal: each record's QR code points into it
    vault: DataVault  # opens the personal data the gradebook sealed
    cutoffs: dict[str, str]  # MM-DD of the reporting cutoffs, for a record's effective date

    def lookup_url(self, lookup_code: str) -> str:
        return f"{self.lookup_base_url.rstrip('/')}/{lookup_code}"


def assemble_class(event: TermLockedV1, uow: TranscriptUnitOfWork, assembly: Assembly) -> int:
    """On the year's lock (term II): every student's year record, in one transaction per class (all or none)."""
    if event.term != "hk2":  # a term I lock freezes data; the year record waits for the year
        return 0
    header = ClassHeader.of(event)
    # An amendment approved after this lock (its event came first, or the lock is a replay) holds the values the
    # records must carry: build from its snapshot, the class as it stands after every correction.
    later = uow.transcripts.latest_amendment(
        event.school_id, event.class_id, event.school_year, event.locked_at
    )
    snapshot = event.snapshot if later is None else AmendmentAppliedV1.model_validate(later).snapshot
    if later is not None:
        log.info("assembly.from_amendment", class_id=event.class_id, amendment_id=later["amendment_id"])
    built = [
        _assemble_student(uow, event.school_id, header, snapshot, s, assembly) for s in _students(snapshot)
    ]
    return sum(built)


def apply_amendment(event: AmendmentAppliedV1, uow: TranscriptUnitOfWork, assembly: Assembly) -> int:
    """An approved amendment after the lock: the student's record gets a new version (if term II changed)."""
    student = next((s for s in event.snapshot.students if s.student_id == event.student_id), None)
    if student is None:
        raise MalformedSnapshot(
            "Biên bản điều chỉnh không chứa học sinh được điều chỉnh.",
            log=f"student {event.student_id} missing from the amended snapshot",
        )
    # Kept whatever happens next: a year's lock that arrives after it (in flight, or replayed from its dead-letter
    # queue) builds from it instead of sealing the values it corrected (issue 18, "nothing dropped").
    uow.transcripts.keep_amendment(
        event.amendment_id,
        school_id=event.school_id,
        class_id=event.class_id,
        school_year=event.school_year,
        student_id=event.student_id,
        approved_at=event.approved_at,
        event=event.model_dump(mode="json"),
    )
    header = _header_from_amendment(uow, event)
    if header is None:  # no year record yet (term I amendment, or the year's lock not here yet): kept for it
        log.info("amendment.kept_for_the_year", amendment_id=event.amendment_id, class_id=event.class_id)
        return 0
    # An amendment of the class approved after this one came first (relay replicas publish out of order, or this
    # one was replayed from a dead-letter queue): its snapshot, the class after both corrections, is the one to
    # build from, so this older one brings no old value back.
    later = uow.transcripts.latest_amendment(
        event.school_id, event.class_id, event.school_year, event.approved_at
    )
    snapshot = event.snapshot if later is None else AmendmentAppliedV1.model_validate(later).snapshot
    student = next((s for s in snapshot.students if s.student_id == event.student_id), student)
    return int(_assemble_student(uow, event.school_id, header, snapshot, student, assembly))


@dataclass(frozen=True)
class ClassHeader:
    """What the year's lock says about the class, kept with each record so an amendment can rebuild it."""

    school_name: str
    school_province: str | None
    class_id: str
    class_name: str
    grade: int
    circular: str
    school_year: str
    locked_by: str
    locked_at: datetime
    locked_by_name: str | None = None  # absent from headers stored before it existed
    # Who taught or led the class that year (subject teachers and the homeroom teacher): the teachers who may
    # download its records. Absent from older headers, where only the school's leadership and staff may.
    teacher_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, event: TermLockedV1) -> ClassHeader:
        return cls(
            event.school_name or event.school_id,
            event.school_province,
            event.class_id,
            event.class_name,
            event.grade,
            event.circular,
            event.school_year,
            event.locked_by,
            event.locked_at,
            event.locked_by_name,
            _teachers_of(event),
        )

    def stored(self) -> dict[str, Any]:
        return {**asdict(self), "locked_at": self.locked_at.isoformat()}

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> ClassHeader:
        return cls(
            **{
                **values,
                "locked_at": datetime.fromisoformat(values["locked_at"]),
                "teacher_ids": tuple(values.get("teacher_ids") or ()),
            }
        )


def _teachers_of(event: TermLockedV1) -> tuple[str, ...]:
    ids = {s.teacher_id for s in event.snapshot.subjects}
    if event.snapshot.homeroom_teacher_id:
        ids.add(event.snapshot.homeroom_teacher_id)
    return tuple(sorted(ids))


def _locked_at(stored_header: dict[str, Any]) -> datetime:
    """When the lock a stored record was built from was taken (the earliest time for a header without one)."""
    value = stored_header.get("locked_at")
    return datetime.fromisoformat(value) if value else datetime.min.replace(tzinfo=UTC)


def _header_from_amendment(uow: TranscriptUnitOfWork, event: AmendmentAppliedV1) -> ClassHeader | None:
    current = [
        r
        for r in uow.transcripts.records(event.school_id, student_id=event.student_id)
        if r.record.school_year == event.school_year
    ]
    return ClassHeader.from_stored(current[-1].record.header) if current else None


def _students(snapshot: ClassSnapshot) -> list[StudentRecord]:
    taught = {s.subject_code for s in snapshot.subjects}
    for student in snapshot.students:
        unknown = {r.subject_code for r in student.subjects} - taught
        if unknown:
            raise MalformedSnapshot(
                "Dữ liệu khóa sổ không hợp lệ: có điểm của môn không được phân công cho lớp.",
                log=f"student {student.student_id} has results for {sorted(unknown)} that no teacher teaches",
            )
    return list(snapshot.students)


def _marks(marks: TermMarksV1 | None) -> TermMarks | None:
    if marks is None:
        return None
    return TermMarks(
        regular=tuple(marks.regular),
        midterm=marks.midterm,
        final=marks.final,
        average=marks.average,
        level=marks.level,
        test=marks.test,
        result=marks.result,
        comment=marks.comment,
        assessed_by=marks.assessed_by,
        assessed_by_name=marks.assessed_by_name,
    )


def printed_award(student: StudentRecord) -> str | None:
    """What the form prints after "Khen thưởng": the titles the principal gave (TT22 art. 15, TT27 art. 13 leave
    the award to the principal, and Học sinh Tiêu biểu needs the class's recognition no rule computes). A snapshot
    from a gradebook that predates recorded awards (``awards`` absent) keeps what such records always printed: the
    title the year's results allow."""
    if student.awards is None:
        return student.year.get("award")
    return "; ".join(a.title for a in student.awards) or None


def _personal_details(student: StudentRecord, vault: DataVault) -> dict[str, Any]:
    """Birth date and place and ethnicity, sealed by the gradebook for the form (absent before it sent them)."""
    if not student.personal_details_enc:
        return {}
    sealed = base64.b64decode(student.personal_details_enc)
    return cast(dict[str, Any], json.loads(vault.decrypt(sealed, Sealed.PERSONAL_DETAILS)))


def _term_periods(student: StudentRecord, here: tuple[str, str]) -> tuple[PeriodResult, ...]:
    """The terms' results; when a term was studied at another school (a student who joined during the year), each
    term says where it was studied, so the record names both schools (rules.md, "Cases every school has")."""
    records = ((cast(Period, "hk1"), student.hk1), (cast(Period, "hk2"), student.hk2))
    elsewhere = any(r is not None and r.school_id for _, r in records)
    return tuple(
        PeriodResult(
            period,
            record.learning_result,
            record.conduct,
            record.absences,
            record.homeroom_comment,
            school=((record.school_id, record.school_name or record.school_id) if record.school_id else here)
            if elsewhere
            else None,
        )
        for period, record in records
        if record is not None
    )


def _after_summer(year: dict[str, Any]) -> tuple[PeriodResult, ...]:
    """The year's results after the re-tests and summer training (the gradebook's summer lock), when there were any."""
    learning, conduct = year.get("learning_result_after_retest"), year.get("conduct_after_summer")
    if learning is None and conduct is None:
        return ()
    return (
        PeriodResult(
            "summer", None if learning is None else str(learning), None if conduct is None else str(conduct)
        ),
    )


def _after_supplementary(year: dict[str, Any]) -> str | None:
    """A primary pupil's completion decided again after the summer's supplementary assessment (TT27 art. 11), with
    what follows from it: "Hoàn thành chương trình lớp học; lên lớp", "Chưa hoàn thành chương trình lớp học; ở lại
    lớp", or a principal's "lên lớp" for a pupil still not complete (art. 11 §3)."""
    completion, promotion = (
        year.get("completion_after_supplementary"),
        year.get("promotion_after_supplementary"),
    )
    if completion is None:
        return None
    if promotion is None or str(promotion).lower() in str(completion).lower():
        return str(completion)
    return f"{completion}; {promotion}"


def _assemble_student(
    uow: TranscriptUnitOfWork,
    school_id: str,
    header: ClassHeader,
    snapshot: ClassSnapshot,
    student: StudentRecord,
    assembly: Assembly,
) -> bool:
    """Build, store and announce one year record; False when an identical one exists (duplicate or replay)."""
    teachers = {s.subject_code: s for s in snapshot.subjects}
    lines = tuple(
        SubjectLine(
            r.subject_code,
            teachers[r.subject_code].subject_name,
            teachers[r.subject_code].teacher_id,
            teachers[r.subject_code].teacher_name,
            _marks(r.hk1),
            _marks(r.hk2),
            None if r.year is None else str(r.year),
            r.year_after_retest,
            r.summer.test if r.summer is not None else None,
            individual_plan=r.individual_plan is True,
        )
        for r in sorted(student.subjects, key=lambda r: form_position(r.subject_code))
    )
    periods = (
        _term_periods(student, (school_id, header.school_name))
        + (
            (
                PeriodResult(
                    "year",
                    student.year.get("learning_result"),
                    student.year.get("conduct"),
                    int(str(student.year["absences"])) if student.year.get("absences") else None,
                ),
            )
            if student.year
            else ()
        )
        + _after_summer(student.year)
    )
    homeroom = None
    if snapshot.homeroom_teacher_id:
        homeroom = (
            snapshot.homeroom_teacher_id,
            snapshot.homeroom_teacher_name or snapshot.homeroom_teacher_id,
        )
    school_name = header.school_name
    plan = plan_signatures(
        lines,
        homeroom,
        (header.locked_by, header.locked_by_name or header.locked_by),
        (school_id, school_name),
        conduct_elsewhere=frozenset(
            term
            for term, record in (("hk1", student.hk1), ("hk2", student.hk2))
            if record and record.school_id
        ),
    )
    level = level_of_grade(header.grade)
    source = {
        "student": student.model_dump(mode="json"),
        "subjects": [s.model_dump(mode="json") for s in snapshot.subjects],
        "plan": [p.__dict__ for p in plan],
        "school": [school_name, header.school_province],
    }
    content_hash = hashlib.sha256(json.dumps(source, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    sealed_id = base64.b64decode(student.personal_id_enc) if student.personal_id_enc else None
    personal_id = assembly.vault.decrypt(sealed_id, Sealed.PERSONAL_ID) if sealed_id else None
    keys = student_keys(assembly.vault, student.moet_code, personal_id)
    code = lookup_code_for(uow, school_id, keys, level)
    transcript = uow.transcripts.transcript_for(
        school_id, student.student_id, level, student.moet_code, code, sealed_id
    )
    stored_id = transcript.personal_id_enc
    latest = uow.transcripts.latest_record(transcript.id, header.school_year, lock=True)
    if latest is not None and latest.content_hash == content_hash:
        return False
    if latest is not None and _locked_at(latest.header) > header.locked_at:
        # A lock older than the one the record was built from (a re-lock or the summer lock came first: relay
        # replicas publish out of order, or the old one was replayed from a dead-letter queue): nothing new.
        log.info(
            "assembly.older_lock_skipped", year_record_id=latest.id, locked_at=header.locked_at.isoformat()
        )
        return False
    version = 1 if latest is None else latest.version + 1
    details = _personal_details(student, assembly.vault)
    record_id = f"yr-{uuid.uuid4().hex[:16]}"
    hk2 = student.hk2
    path = reporting_path(student.year, header.grade)
    record = YearRecord(
        lookup_code=transcript.lookup_code,
        transcript_id=transcript.id,
        year_record_id=record_id,
        version=version,
        school_id=school_id,
        school_name=school_name,
        school_level=level,
        school_province=header.school_province,
        student_id=student.student_id,
        moet_code=student.moet_code,
        full_name=student.full_name,
        school_year=header.school_year,
        class_name=header.class_name,
        grade=header.grade,
        circular=header.circular,
        subjects=lines,
        periods=periods,
        qualities=tuple(sorted((hk2.qualities if hk2 else {}).items())),
        competencies=tuple(sorted((hk2.competencies if hk2 else {}).items())),
        traits_after_supplementary=tuple(
            sorted({**student.summer.qualities, **student.summer.competencies}.items())
            if student.summer
            else ()
        ),
        year_result=student.year.get("year_result"),
        promotion=student.year.get("promotion") or student.year.get("completion"),
        promotion_after_summer=student.year.get("promotion_after_retest")
        or _after_supplementary(student.year),
        award=printed_award(student),
        signature_plan=plan,
        supersedes=None if latest is None else latest.id,
        previous_record_sha256=uow.transcripts.previous_year_xml(transcript.id, header.school_year)
        or uow.transcripts.handed_over(school_id, keys, header.school_year),
        personal_id=assembly.vault.decrypt(bytes(stored_id), Sealed.PERSONAL_ID) if stored_id else None,
        lookup_url=assembly.lookup_url(transcript.lookup_code),
        gender=student.gender,
        birth_date=date.fromisoformat(details["birth_date"]) if details.get("birth_date") else None,
        birth_place=details.get("birth_place"),
        ethnicity=details.get("ethnicity"),
        register_number=student.register_number,
        effective_date=effective_date(header.school_year, path, assembly.cutoffs),
        reporting_path=path,
    )
    publish_record(uow, record, header, content_hash, latest, actor=("transcript-service", "system"))
    return True


def announced_plan(record: YearRecord) -> list[SignatureStepV1]:
    """The record's signature plan as ``TranscriptAssembledV1`` announces it to the signing service."""
    return [
        SignatureStepV1(
            order=s.order,
            role=s.role,
            field_name=s.field_name,
            signer_id=s.signer_id,
            covers=list(s.covers),
            on_behalf_of=s.on_behalf_of,
        )
        for s in record.signature_plan
    ]


def publish_record(
    uow: TranscriptUnitOfWork,
    record: YearRecord,
    header: ClassHeader,
    content_hash: str,
    latest: YearRecordVersion | None,
    *,
    actor: tuple[str, str],
) -> None:
    """Render, store by content address, supersede the previous version, and announce: one transaction."""
    school_id, version, record_id = record.school_id, record.version, record.year_record_id
    xml = xml_package.build(record)
    pdf = pdf_form.render(xml, created=header.locked_at)
    xml_sha, pdf_sha = uow.documents.put(xml, "application/xml"), uow.documents.put(pdf, "application/pdf")
    if latest is not None:
        sealed = latest.status in (Status.SEALED, Status.REPORTED, Status.EFFECTIVE)
        uow.transcripts.set_status(latest.id, Status.REPLACED if sealed else Status.SUPERSEDED)
    steps = announced_plan(record)
    uow.transcripts.add_record(
        {
            "id": record_id,
            "transcript_id": record.transcript_id,
            "school_id": school_id,
            "class_id": header.class_id,
            "school_year": header.school_year,
            "version": version,
            "status": Status.ASSEMBLED,
            "content_hash": content_hash,
            "xml_sha256": xml_sha,
            "pdf_sha256": pdf_sha,
            "supersedes": record.supersedes,
            "signature_plan": [s.model_dump(mode="json") for s in steps],
            "header": header.stored(),
        }
    )
    subject = f"transcript/{record.transcript_id}/{header.school_year}"
    uow.emit(
        TranscriptAssembledV1(
            school_id=school_id,
            class_id=header.class_id,
            student_id=record.student_id,
            transcript_id=record.transcript_id,
            year_record_id=record_id,
            school_year=header.school_year,
            version=version,
            supersedes=record.supersedes,
            xml_sha256=xml_sha,
            pdf_sha256=pdf_sha,
            signature_plan=steps,
            digitised=record.digitised_from is not None,
            reporting_path=cast(ReportingPath, record.reporting_path),
        ),
        subject=subject,
    )
    uow.audit(
        AuditAction.YEAR_RECORD_DIGITISE
        if record.digitised_from is not None
        else AuditAction.YEAR_RECORD_ASSEMBLE
        if version == 1
        else AuditAction.YEAR_RECORD_REASSEMBLE,
        entity=year_record_version_id(
            transcript_id=record.transcript_id, school_year=header.school_year, version=version
        ),
        actor=actor[0],
        role=actor[1],
        school_id=school_id,
        after_hash=xml_sha,
        before_hash=None if latest is None else latest.xml_sha256,
        changes={"version": str(version)},
        occurred_at=header.locked_at,
        subject=subject,
    )
