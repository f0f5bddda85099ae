"""Sync entrypoints: sealed records in, the submission worker and reconciliation timers, the principal's view."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from contracts.envelope import Envelope
from contracts.signing import TranscriptSealedV1
from services.runtime.auth import SCHOOL_STAFF, SCHOOL_WIDE, Auth, Role
from services.runtime.database import Database
from services.runtime.handlers import reliable_handler
from services.runtime.http import HealthEndpoints, api, json_response, parse_body
from services.runtime.openapi import openapi_document
from services.runtime.timers import every
from services.runtime.wiring import Wiring
from services.sync import api as routes
from services.sync.api import CredentialsIn, TransferDecisionIn, TransferRequestIn, WithdrawIn
from services.sync.app import handlers, operations, transfers
from services.sync.app.unit_of_work import SERVICE, SyncUnitOfWork
from services.sync.bootstrap import bootstrap
from services.sync.domain.errors import GatewayUnavailable, NoGatewayCredentials, SyncError, SyncRefused

# Transferred-in students' records come from the province with no class here yet: SCHOOL_WIDE reads them, no
# teacher (sync knows no teacher's classes).


class SyncService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE)
    principal = Auth()
    wiring = Wiring(bootstrap)

    def unit_of_work(self, *, correlation_id: str | None = None) -> SyncUnitOfWork:
        return SyncUnitOfWork(self.db, correlation_id=correlation_id)

    def _submitter(self) -> handlers.Submitter:
        w = self.wiring
        return handlers.Submitter(
            self.unit_of_work,
            w.gateway,
            w.documents,
            w.credentials.token_of,
            breaker=w.breaker,
            backoff=w.backoff,
            cutoffs=w.cutoffs,
            today=w.today,
        )

    @reliable_handler("signing", TranscriptSealedV1, consumer=handlers.CONSUMER_SEALED)
    def on_sealed(self, envelope: Envelope[TranscriptSealedV1], uow: SyncUnitOfWork) -> None:
        handlers.register_sealed(envelope.data, uow)

    @every("sync_submit_seconds")
    def submit(self) -> None:
        self._submitter().run_once()

    @every("sync_reconcile_seconds")
    def reconcile(self) -> None:
        w = self.wiring
        operations.reconcile(self.unit_of_work, w.gateway, w.credentials.token_of, w.cutoffs)
        operations.mark_effective(self.unit_of_work, w.today(), w.cutoffs)

    @api("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(openapi_document("Học bạ số — sync", "1.0.0", routes.ROUTES))

    @api("PUT", "/schools/<string:school_id>/sync/credentials")
    def credentials(self, request: Request, school_id: str) -> Response:
        self.principal().require_role(Role.OPERATOR)
        body = parse_body(request, CredentialsIn)
        with self.unit_of_work() as uow:
            uow.submissions.set_credentials(school_id, self.wiring.credentials.seal(body.token))
            waiting = uow.submissions.retry_now(school_id)
            uow.commit()
        return json_response({"school_id": school_id, "stored": True, "pending_retried_now": waiting})

    @api("GET", "/schools/<string:school_id>/sync/status")
    def status(self, request: Request, school_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*SCHOOL_STAFF)
        report = operations.school_status(
            self.unit_of_work, school_id, self.wiring.today(), self.wiring.cutoffs
        )
        breaker = self.wiring.breaker
        return json_response(
            {**report, "gateway": {"breaker": breaker.state, "consecutive_failures": breaker.failures}}
        )

    @api(
        "POST",
        "/schools/<string:school_id>/sync/records/<string:year_record_id>/withdraw",
        expected_exceptions=(SyncError,),
    )
    def withdraw(self, request: Request, school_id: str, year_record_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(Role.PRINCIPAL)
        body = parse_body(request, WithdrawIn)
        result = operations.withdraw(
            self.unit_of_work,
            self.wiring.gateway,
            self.wiring.credentials.token_of,
            school_id,
            year_record_id,
            body.reason,
            self.wiring.today(),
            self.wiring.cutoffs,
        )
        return json_response(result)

    def _school_actor(self, school_id: str, *roles: Role) -> transfers.Actor:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*roles)
        acting = next(r for r in (Role.PRINCIPAL, Role.STAFF) if r in roles and caller.has_role(r))
        return transfers.Actor(caller.user_id, acting.value)

    @api(
        "POST",
        "/schools/<string:school_id>/sync/transfer-requests",
        expected_exceptions=(SyncError,),
    )
    def request_transfer(self, request: Request, school_id: str) -> Response:
        """The receiving school (``school_id``) asks for the học bạ the family brought."""
        actor = self._school_actor(school_id, Role.PRINCIPAL, Role.STAFF)
        body = parse_body(request, TransferRequestIn)
        result = transfers.request_transfer(
            self.unit_of_work,
            actor,
            school_id,
            body.from_school,
            body.lookup_code,
        )
        return json_response(result, status=201)

    @api("GET", "/schools/<string:school_id>/sync/transfer-requests")
    def transfer_requests(self, request: Request, school_id: str) -> Response:
        self._school_actor(school_id, Role.PRINCIPAL, Role.STAFF)
        return json_response(transfers.transfer_requests(self.unit_of_work, school_id))

    @api(
        "POST",
        "/schools/<string:school_id>/sync/transfer-requests/<string:request_id>/approve",
        expected_exceptions=(SyncError,),
    )
    def approve_transfer(self, request: Request, school_id: str, request_id: str) -> Response:
        """The sending school's (``school_id``) principal hands the học bạ over."""
        actor = self._school_actor(school_id, Role.PRINCIPAL)
        return self._decide_transfer(actor, school_id, request_id, approve=True)

    @api(
        "POST",
        "/schools/<string:school_id>/sync/transfer-requests/<string:request_id>/refuse",
        expected_exceptions=(SyncError,),
    )
    def refuse_transfer(self, request: Request, school_id: str, request_id: str) -> Response:
        actor = self._school_actor(school_id, Role.PRINCIPAL)
        body = parse_body(request, TransferDecisionIn)
        return self._decide_transfer(actor, school_id, request_id, approve=False, reason=body.reason)

    def _decide_transfer(
        self,
        actor: transfers.Actor,
        school_id: str,
        request_id: str,
        *,
        approve: bool,
        reason: str | None = None,
    ) -> Response:
        result = transfers.decide_transfer(
            self.unit_of_work,
            self.wiring.gateway,
            self.wiring.credentials.token_of,
            actor,
            school_id,
            request_id,
            approve=approve,
            reason=reason,
        )
        return json_response(result)

    @api("GET", "/schools/<string:school_id>/sync/incoming", expected_exceptions=(SyncError,))
    def incoming(self, request: Request, school_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*SCHOOL_WIDE)
        return json_response(
            operations.incoming(
                self.unit_of_work, self.wiring.gateway, self.wiring.credentials.token_of, school_id
            )
        )

    @api(
        "GET",
        "/schools/<string:school_id>/sync/incoming/<string:record_id>/<any(pdf, xml):kind>",
        expected_exceptions=(SyncError,),
    )
    def incoming_document(self, request: Request, school_id: str, record_id: str, kind: str) -> Response:
        """An earlier school's sealed record, fetched from the province for the school that now keeps the học bạ."""
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*SCHOOL_WIDE)
        with self.unit_of_work() as uow:
            token = self.wiring.credentials.token_of(uow, school_id)
        if token is None:
            raise NoGatewayCredentials()
        status, content = self.wiring.gateway.download(token, record_id, kind)
        if status == 404:
            raise SyncRefused("Không tải được bản ghi từ cổng tiếp nhận của Sở.", 404)
        if status != 200:
            raise GatewayUnavailable("Không tải được bản ghi từ cổng tiếp nhận của Sở.")
        return Response(content, mimetype="application/pdf" if kind == "pdf" else "application/xml")
