"""Transcript entrypoints: assemble on the year's lock and on amendments; year records for school staff."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from contracts.envelope import Envelope
from contracts.gradebook import AmendmentAppliedV1, TermLockedV1
from contracts.signing import TranscriptSealedV1
from contracts.sync import SyncRecordChangedV1, TranscriptTransferredV1
from services.runtime.auth import (
    DOCUMENTS_READ,
    RECORD_READERS,
    SCHOOL_WIDE,
    Auth,
    Forbidden,
    Principal,
    Role,
    ServiceAuth,
)
from services.runtime.database import Database
from services.runtime.handlers import reliable_handler
from services.runtime.http import HealthEndpoints, api, json_response, parse_body, request_correlation_id
from services.runtime.openapi import openapi_document
from services.runtime.wiring import Wiring
from services.transcript import api as routes
from services.transcript.api import DigitisedRecordIn
from services.transcript.app import handlers, handover, progress, queries
from services.transcript.app.digitise import digitise_record
from services.transcript.app.unit_of_work import SERVICE, TranscriptUnitOfWork
from services.transcript.bootstrap import bootstrap
from services.transcript.domain.errors import RecordNotFound, TranscriptError
from services.transcript.domain.model import Status, YearRecordVersion

# SCHOOL_WIDE sees every record of the school; teachers (subject or homeroom) see only their classes' records: those
# whose year names them (the lock's teachers, or the teachers a digitised year's plan names), never by a request
# parameter.


def _teacher_scope(caller: Principal) -> str | None:
    """None for the school's leadership and staff (every record); otherwise the teacher whose classes they see."""
    return None if caller.has_role(*SCHOOL_WIDE) else caller.user_id


class TranscriptService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE)
    principal = Auth()
    service_caller = ServiceAuth()  # other services' tokens (their own audience), never users'
    wiring = Wiring(bootstrap)

    def unit_of_work(self, *, correlation_id: str | None = None) -> TranscriptUnitOfWork:
        return TranscriptUnitOfWork(self.db, correlation_id=correlation_id)

    @reliable_handler("gradebook", TermLockedV1, consumer=handlers.CONSUMER_LOCKED)
    def on_term_locked(self, envelope: Envelope[TermLockedV1], uow: TranscriptUnitOfWork) -> None:
        handlers.assemble_class(envelope.data, uow, self.wiring.assembly)

    @reliable_handler("gradebook", AmendmentAppliedV1, consumer=handlers.CONSUMER_AMENDED)
    def on_amendment_applied(self, envelope: Envelope[AmendmentAppliedV1], uow: TranscriptUnitOfWork) -> None:
        handlers.apply_amendment(envelope.data, uow, self.wiring.assembly)

    @reliable_handler("signing", TranscriptSealedV1, consumer=progress.consumer_for(Status.SEALED))
    def on_sealed(self, envelope: Envelope[TranscriptSealedV1], uow: TranscriptUnitOfWork) -> None:
        progress.record_progress(envelope.data, uow, Status.SEALED)

    @reliable_handler("sync", SyncRecordChangedV1, consumer=progress.reported_consumer)
    def on_reported(self, envelope: Envelope[SyncRecordChangedV1], uow: TranscriptUnitOfWork) -> None:
        progress.record_report(envelope.data, uow)

    @reliable_handler("sync", TranscriptTransferredV1, consumer=handover.CONSUMER)
    def on_transferred(self, envelope: Envelope[TranscriptTransferredV1], uow: TranscriptUnitOfWork) -> None:
        handover.receive_handover(envelope.data, uow, self.wiring.assembly.vault)

    @api("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(openapi_document("Học bạ số — transcript", "1.0.0", routes.ROUTES))

    @api("GET", "/schools/<string:school_id>/records", expected_exceptions=(TranscriptError,))
    def records(self, request: Request, school_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)  # another school (and an operator) gets the 404 of an unknown one
        caller.require_role(*RECORD_READERS)
        uow = self.unit_of_work(correlation_id=request_correlation_id(request))
        return json_response(
            queries.records(
                uow,
                school_id,
                request.args.get("student"),
                request.args.get("code"),
                taught_by=_teacher_scope(caller),
            )
        )

    @api("POST", "/schools/<string:school_id>/records/digitised", expected_exceptions=(TranscriptError,))
    def digitised(self, request: Request, school_id: str) -> Response:
        """The clerk enters an earlier year from a scanned paper học bạ."""
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(Role.STAFF, Role.PRINCIPAL)
        body = parse_body(request, DigitisedRecordIn)
        uow = self.unit_of_work(correlation_id=request_correlation_id(request))
        result = digitise_record(school_id, caller.user_id, body, uow, self.wiring.assembly)
        return json_response(result, status=201)

    @api("GET", "/records/<string:record_id>/<any(pdf, xml):kind>", expected_exceptions=(TranscriptError,))
    def document(self, request: Request, record_id: str, kind: str) -> Response:
        caller = self.principal()
        caller.require_role(*RECORD_READERS)

        def permit(record: YearRecordVersion) -> None:
            # Another school's record answers exactly like an unknown one (operators read no school's records).
            if not caller.acts_for(record.school_id):
                raise RecordNotFound(queries.RECORD_NOT_FOUND)
            teacher = _teacher_scope(caller)
            if teacher is not None and not queries.taught_by(record, teacher):
                raise Forbidden("Giáo viên chỉ được tải học bạ của lớp mình dạy hoặc chủ nhiệm.")

        content, media_type = queries.document(self.unit_of_work(), record_id, kind, permit)
        return Response(
            content,
            mimetype=media_type,
            headers={"Content-Disposition": f'attachment; filename="{record_id}.{kind}"'},
        )

    @api("GET", "/documents/<string:sha256>", expected_exceptions=(TranscriptError,))
    def stored_document(self, request: Request, sha256: str) -> Response:
        """Unsigned documents by content address, for the signing service (service token only)."""
        self.service_caller(DOCUMENTS_READ)
        content, media_type = queries.stored_document(self.unit_of_work(), sha256)
        return Response(content, mimetype=media_type)
