"""Audit entrypoints: consumes every service's audit events; serves the log to inspectors."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit import api as routes
from services.audit.app import handlers
from services.audit.app.checkpoints import take_checkpoints, take_due_checkpoints
from services.audit.app.handlers import LogQuery
from services.audit.app.unit_of_work import SERVICE, AuditUnitOfWork
from services.audit.bootstrap import bootstrap
from services.audit.store.login import refuse_a_login_that_may_change_the_log
from services.runtime.auth import Auth, Role
from services.runtime.database import Database
from services.runtime.handlers import EventSource, reliable_handler
from services.runtime.http import HealthEndpoints, api, json_response, parse_query
from services.runtime.openapi import openapi_document, werkzeug_path
from services.runtime.timers import every
from services.runtime.wiring import Wiring


class AuditService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE, check=refuse_a_login_that_may_change_the_log)
    principal = Auth()
    # The service whose exchange delivered the event being handled: entries are recorded under it, not the body's.
    event_source = EventSource()
    wiring = Wiring(bootstrap)

    def unit_of_work(self, *, correlation_id: str | None = None) -> AuditUnitOfWork:
        return AuditUnitOfWork(self.db, correlation_id=correlation_id)

    # Every service that mutates data reports here; operators' tools (dead-letter replays, purges) as `ops`.
    @reliable_handler("gradebook", AuditRecordedV1, consumer=handlers.CONSUMER)
    def on_gradebook_audit(self, envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork) -> None:
        handlers.record(envelope, uow, source=self.event_source, vault=self.wiring.vault)

    @reliable_handler("transcript", AuditRecordedV1, consumer=handlers.CONSUMER)
    def on_transcript_audit(self, envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork) -> None:
        handlers.record(envelope, uow, source=self.event_source, vault=self.wiring.vault)

    @reliable_handler("signing", AuditRecordedV1, consumer=handlers.CONSUMER)
    def on_signing_audit(self, envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork) -> None:
        handlers.record(envelope, uow, source=self.event_source, vault=self.wiring.vault)

    @reliable_handler("sync", AuditRecordedV1, consumer=handlers.CONSUMER)
    def on_sync_audit(self, envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork) -> None:
        handlers.record(envelope, uow, source=self.event_source, vault=self.wiring.vault)

    @reliable_handler("ops", AuditRecordedV1, consumer=handlers.CONSUMER)
    def on_ops_audit(self, envelope: Envelope[AuditRecordedV1], uow: AuditUnitOfWork) -> None:
        handlers.record(envelope, uow, source=self.event_source, vault=self.wiring.vault)

    @every("audit_checkpoint_seconds")
    def checkpoint(self) -> None:
        take_checkpoints(self.db, self.wiring.timestamper)

    @every("audit_lock_checkpoint_seconds")
    def checkpoint_locks(self) -> None:
        """A term lock recorded since a chain's last checkpoint gets one within seconds (the TSA may be down)."""
        take_due_checkpoints(self.db, self.wiring.timestamper)

    def _require_reader(self, school_id: str) -> None:
        caller = self.principal()
        caller.require_school(school_id)  # another school: the 404 of an unknown one, whatever the roles
        caller.require_role(*(Role(r) for r in routes.READERS))

    @api("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(openapi_document("Học bạ số — audit", "1.0.0", routes.ROUTES))

    @api("GET", werkzeug_path(routes.LOG.path))
    def school_log(self, request: Request, school_id: str) -> Response:
        """A school's log in chain order; filters: student, actor, entity, action, since, until; page with after."""
        self._require_reader(school_id)
        query = parse_query(request, LogQuery)
        return json_response(handlers.query_log(school_id, query, self.unit_of_work()))

    @api("GET", werkzeug_path(routes.GRADE_HISTORY.path))
    def grade_history(
        self, request: Request, school_id: str, class_id: str, subject: str, term: str, student_id: str
    ) -> Response:
        """One grade value's history: each value recorded, the lock, each amendment and who approved it."""
        self._require_reader(school_id)
        uow = self.unit_of_work()
        return json_response(handlers.grade_history(school_id, class_id, subject, term, student_id, uow))
