"""Signing entrypoints: register assembled records, deferred signing for people, the seal timer, readiness."""

from __future__ import annotations

import base64
import uuid
from functools import partial

from werkzeug.wrappers import Request, Response

from contracts.envelope import Envelope
from contracts.transcript import TranscriptAssembledV1
from services.runtime.auth import (
    DOCUMENTS_READ,
    RECORD_READERS,
    SCHOOL_STAFF,
    SCHOOL_WIDE,
    SIGNERS,
    Auth,
    Forbidden,
    ServiceAuth,
)
from services.runtime.database import Database
from services.runtime.handlers import reliable_handler
from services.runtime.http import HealthEndpoints, api, json_response, parse_body, request_correlation_id
from services.runtime.openapi import openapi_document
from services.runtime.timers import every
from services.runtime.wiring import Wiring
from services.signing import api as routes
from services.signing.api import FinishBatchIn, PrepareBatchIn
from services.signing.app import deferred, handlers, queries
from services.signing.app.sealing import seal_waiting
from services.signing.app.unit_of_work import SERVICE, SigningUnitOfWork
from services.signing.bootstrap import bootstrap
from services.signing.domain.errors import SigningError, UnknownRecord

# SCHOOL_WIDE reads every record of their school; a teacher (subject or homeroom) reads the records whose plan
# names them.


class SigningService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE)
    principal = Auth()
    service_caller = ServiceAuth()  # other services' tokens (their own audience), never users'
    wiring = Wiring(bootstrap)

    def unit_of_work(self, *, correlation_id: str | None = None) -> SigningUnitOfWork:
        return SigningUnitOfWork(self.db, correlation_id=correlation_id)

    @reliable_handler("transcript", TranscriptAssembledV1, consumer=handlers.CONSUMER_ASSEMBLED)
    def on_assembled(self, envelope: Envelope[TranscriptAssembledV1], uow: SigningUnitOfWork) -> None:
        handlers.register_record(envelope, uow, self.wiring.documents, self.wiring.qr)

    @every("signing_seal_seconds")
    def seal(self) -> None:
        seal_waiting(self.unit_of_work, self.wiring.sealer)

    def _caller(self) -> deferred.Caller:
        caller = self.principal()
        caller.require_role(*SIGNERS)
        return deferred.Caller(
            caller.user_id, caller.school_id, frozenset(r.value for r in caller.roles if r in SIGNERS)
        )

    @api("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(openapi_document("Học bạ số — signing", "1.0.0", routes.ROUTES))

    @api("GET", "/signing/pending", expected_exceptions=(SigningError,))
    def pending(self, request: Request) -> Response:
        """My steps whose turn it is (never a step still waiting for someone before me)."""
        caller = self._caller()
        return json_response(queries.waiting_for(self.unit_of_work, caller, request.args.get("class_id")))

    @api("POST", "/signing/batches", expected_exceptions=(SigningError,))
    def prepare(self, request: Request) -> Response:
        caller = self._caller()
        body = parse_body(request, PrepareBatchIn)
        result = deferred.prepare_batch(
            caller,
            partial(self.unit_of_work, correlation_id=request_correlation_id(request)),
            self.wiring.certificate_check,
            records=[(r.year_record_id, r.order) for r in body.records] if body.records is not None else None,
            class_id=body.class_id,
            certificate=body.certificate_der(),
            chain=body.chain_der(),
        )
        return json_response(result, status=201)

    @api("POST", "/signing/batches/<string:batch_id>/signatures", expected_exceptions=(SigningError,))
    def finish(self, request: Request, batch_id: str) -> Response:
        caller = self._caller()
        body = parse_body(request, FinishBatchIn)
        try:
            batch = uuid.UUID(batch_id)
        except ValueError:
            batch = uuid.UUID(int=0)
        result = deferred.finish_batch(
            caller,
            batch,
            {
                s.item_id: (base64.b64decode(s.pdf_signature), base64.b64decode(s.xml_signature))
                for s in body.signatures
            },
            partial(self.unit_of_work, correlation_id=request_correlation_id(request)),
            self.wiring.timestamper,
        )
        return json_response(result)

    @api("GET", "/schools/<string:school_id>/signing/status", expected_exceptions=(SigningError,))
    def status(self, request: Request, school_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*SCHOOL_STAFF)
        return json_response(
            queries.school_readiness(self.unit_of_work, school_id, self.wiring.signing_cutoff)
        )

    @api("GET", "/records/<string:record_id>/<any(pdf, xml):kind>", expected_exceptions=(SigningError,))
    def record_document(self, request: Request, record_id: str, kind: str) -> Response:
        caller = self.principal()
        caller.require_role(*RECORD_READERS)

        def permit(school_id: str, signer_ids: frozenset[str]) -> None:
            # Another school's record (and any record for an operator) answers exactly like an unknown one.
            if not caller.acts_for(school_id):
                raise UnknownRecord(queries.RECORD_NOT_FOUND)
            if not caller.has_role(*SCHOOL_WIDE) and caller.user_id not in signer_ids:
                raise Forbidden("Giáo viên chỉ được tải học bạ có bước ký của mình.")

        content, media_type = queries.record_document(self.unit_of_work, record_id, kind, permit)
        return Response(
            content,
            mimetype=media_type,
            headers={"Content-Disposition": f'attachment; filename="{record_id}.{kind}"'},
        )

    @api("GET", "/documents/<string:sha256>", expected_exceptions=(SigningError,))
    def document(self, request: Request, sha256: str) -> Response:
        """Sealed documents for other services (sync reports them to the province; service token only)."""
        self.service_caller(DOCUMENTS_READ)
        content, media_type = queries.document(self.unit_of_work, sha256)
        return Response(content, mimetype=media_type)
