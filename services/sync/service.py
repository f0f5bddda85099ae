"""Sync entrypoints: sealed records in, the submission worker and reconciliation timers, the principal's view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidTag
from werkzeug.wrappers import Request, Response

from contracts.envelope import Envelope
from contracts.signing import TranscriptSealedV1
from services.runtime.auth import Auth, Role
from services.runtime.data_key import DataVault, Sealed
from services.runtime.db import Database
from services.runtime.documents import RemoteDocuments
from services.runtime.handlers import reliable_handler
from services.runtime.http import HealthEndpoints, api, json_response, parse_body
from services.runtime.logging import get_logger
from services.runtime.openapi import openapi_document
from services.runtime.settings import get_settings
from services.runtime.timers import every
from services.sync import api as routes
from services.sync.api import CredentialsIn, TransferDecisionIn, TransferRequestIn, WithdrawIn
from services.sync.app import handlers, operations, transfers
from services.sync.app.unit_of_work import SERVICE, SyncUnitOfWork
from services.sync.domain.rules import CutoffPassed
from services.sync.gateway import GatewayClient

log = get_logger(__name__)
STAFF = (Role.PRINCIPAL, Role.STAFF, Role.HOMEROOM, Role.INSPECTOR)
# Transferred-in students' records come from the province with no class here yet: the school's leadership and staff
# read them, no teacher (sync knows no teacher's classes).
STAFF_WIDE = (Role.PRINCIPAL, Role.STAFF, Role.INSPECTOR)


def token_of(uow: SyncUnitOfWork, school_id: str) -> str | None:
    """The school's gateway token, or None while it has none that this deployment's data key can read.

    Unreadable credentials (stored under another key, or damaged) stop that school only: its records wait, the
    log says which school, and `hocba sync connect` fixes it; every other school keeps reporting.
    """
    sealed = uow.submissions.credentials_of(school_id)
    if not sealed:
        return None
    try:
        return DataVault.from_settings().decrypt(sealed, Sealed.GATEWAY_CREDENTIALS)
    except (InvalidTag, ValueError):
        log.error("sync.credentials_unreadable", school_id=school_id)
        return None


class SyncRuntime:
    """Per process: one gateway client and one breaker (this replica's view of the gateway)."""

    def __init__(self) -> None:
        self._submitter: handlers.Submitter | None = None
        # The reporting day: the calendar's in production; tests and rehearsals move it.
        self.today: Callable[[], date] = lambda: get_settings().reporting_day or datetime.now(UTC).date()

    @cached_property
    def gateway(self) -> GatewayClient:
        settings = get_settings()
        return GatewayClient(settings.gateway_url, settings.gateway_timeout_seconds)

    @cached_property
    def documents(self) -> RemoteDocuments:
        return RemoteDocuments(get_settings().signing_url, get_settings(), caller="sync")

    def submitter(self, new_uow: Any) -> handlers.Submitter:
        if self._submitter is None:
            self._submitter = handlers.Submitter(
                new_uow,
                self.gateway,
                self.documents,
                token_of,
                cutoffs=get_settings().sync_cutoffs,
                today=lambda: self.today(),
            )
        return self._submitter


runtime = SyncRuntime()


class SyncService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE)
    principal = Auth()

    def unit_of_work(self, *, correlation_id: str | None = None) -> SyncUnitOfWork:
        return SyncUnitOfWork(self.db, correlation_id=correlation_id)

    def _new_uow(self, correlation_id: str | None = None):  # noqa: ANN202
        return lambda: self.unit_of_work(correlation_id=correlation_id)

    @reliable_handler("signing", TranscriptSealedV1, consumer=handlers.CONSUMER_SEALED)
    def on_sealed(self, envelope: Envelope[TranscriptSealedV1], uow: SyncUnitOfWork) -> None:
        handlers.register_sealed(envelope.data, uow)

    @every("sync_submit_seconds")
    def submit(self) -> None:
        runtime.submitter(self._new_uow()).run_once()

    @every("sync_reconcile_seconds")
    def reconcile(self) -> None:
        operations.reconcile(self._new_uow(), runtime.gateway, token_of, get_settings().sync_cutoffs)
        operations.mark_effective(self._new_uow(), runtime.today(), get_settings().sync_cutoffs)

    @api("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(openapi_document("Học bạ số — sync", "1.0.0", routes.ROUTES))

    @api("PUT", "/schools/<string:school_id>/sync/credentials")
    def credentials(self, request: Request, school_id: str) -> Response:
        self.principal().require_role(Role.OPERATOR)
        body = parse_body(request, CredentialsIn)
        with self._new_uow()() as uow:
            uow.submissions.set_credentials(
                school_id, DataVault.from_settings().encrypt(body.token, Sealed.GATEWAY_CREDENTIALS)
            )
            waiting = uow.submissions.retry_now(school_id)
            uow.commit()
        return json_response({"school_id": school_id, "stored": True, "pending_retried_now": waiting})

    @api("GET", "/schools/<string:school_id>/sync/status")
    def status(self, request: Request, school_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*STAFF)
        report = operations.school_status(
            self._new_uow(), school_id, runtime.today(), get_settings().sync_cutoffs
        )
        breaker = runtime.submitter(self._new_uow()).breaker
        return json_response(
            {**report, "gateway": {"breaker": breaker.state, "consecutive_failures": breaker.failures}}
        )

    @api(
        "POST",
        "/schools/<string:school_id>/sync/records/<string:year_record_id>/withdraw",
        expected_exceptions=(operations.SyncRefused, CutoffPassed),
    )
    def withdraw(self, request: Request, school_id: str, year_record_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(Role.PRINCIPAL)
        body = parse_body(request, WithdrawIn)
        result = operations.withdraw(
            self._new_uow(),
            runtime.gateway,
            token_of,
            school_id,
            year_record_id,
            body.reason,
            runtime.today(),
            get_settings().sync_cutoffs,
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
        expected_exceptions=(operations.SyncRefused,),
    )
    def request_transfer(self, request: Request, school_id: str) -> Response:
        """The receiving school (``school_id``) asks for the học bạ the family brought."""
        actor = self._school_actor(school_id, Role.PRINCIPAL, Role.STAFF)
        body = parse_body(request, TransferRequestIn)
        result = transfers.request_transfer(
            self._new_uow(), actor, school_id, body.from_school, body.lookup_code
        )
        return json_response(result, status=201)

    @api("GET", "/schools/<string:school_id>/sync/transfer-requests")
    def transfer_requests(self, request: Request, school_id: str) -> Response:
        self._school_actor(school_id, Role.PRINCIPAL, Role.STAFF)
        return json_response(transfers.transfer_requests(self._new_uow(), school_id))

    @api(
        "POST",
        "/schools/<string:school_id>/sync/transfer-requests/<string:request_id>/approve",
        expected_exceptions=(operations.SyncRefused,),
    )
    def approve_transfer(self, request: Request, school_id: str, request_id: str) -> Response:
        """The sending school's (``school_id``) principal hands the học bạ over."""
        actor = self._school_actor(school_id, Role.PRINCIPAL)
        result = transfers.decide_transfer(
            self._new_uow(), runtime.gateway, token_of, actor, school_id, request_id, approve=True
        )
        return json_response(result)

    @api(
        "POST",
        "/schools/<string:school_id>/sync/transfer-requests/<string:request_id>/refuse",
        expected_exceptions=(operations.SyncRefused,),
    )
    def refuse_transfer(self, request: Request, school_id: str, request_id: str) -> Response:
        actor = self._school_actor(school_id, Role.PRINCIPAL)
        body = parse_body(request, TransferDecisionIn)
        result = transfers.decide_transfer(
            self._new_uow(),
            runtime.gateway,
            token_of,
            actor,
            school_id,
            request_id,
            approve=False,
            reason=body.reason,
        )
        return json_response(result)

    @api("GET", "/schools/<string:school_id>/sync/incoming", expected_exceptions=(operations.SyncRefused,))
    def incoming(self, request: Request, school_id: str) -> Response:
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*STAFF_WIDE)
        return json_response(operations.incoming(self._new_uow(), runtime.gateway, token_of, school_id))

    @api(
        "GET",
        "/schools/<string:school_id>/sync/incoming/<string:record_id>/<any(pdf, xml):kind>",
        expected_exceptions=(operations.SyncRefused,),
    )
    def incoming_document(self, request: Request, school_id: str, record_id: str, kind: str) -> Response:
        """An earlier school's sealed record, fetched from the province for the school that now keeps the học bạ."""
        caller = self.principal()
        caller.require_school(school_id)
        caller.require_role(*STAFF_WIDE)
        with self._new_uow()() as uow:
            token = token_of(uow, school_id)
        if token is None:
            raise operations.SyncRefused("Trường chưa được cấu hình tài khoản cổng tiếp nhận của Sở.", 503)
        status, content = runtime.gateway.download(token, record_id, kind)
        if status != 200:
            raise operations.SyncRefused(
                "Không tải được bản ghi từ cổng tiếp nhận của Sở.", 404 if status == 404 else 502
            )
        return Response(content, mimetype="application/pdf" if kind == "pdf" else "application/xml")
