"""Gradebook HTTP entrypoints (nameko): parse → command → handler; errors become problem+json at the edge."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field
from werkzeug.wrappers import Request, Response

from services.gradebook.app import handlers
from services.gradebook.app.unit_of_work import SERVICE, GradebookUnitOfWork
from services.gradebook.domain.commands import LockTerm
from services.gradebook.domain.term_lock import Term
from services.runtime.auth import Auth, Role
from services.runtime.db import Database
from services.runtime.http import HealthEndpoints, Problem, api, json_response, parse_body


class LockTermRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    class_name: str = Field(min_length=1, max_length=32, description="Class name as printed, e.g. 8A1")
    grade: int = Field(ge=1, le=12, description="Grade 1–12")
    school_year: str = Field(pattern=r"^\d{4}-\d{4}$", description="e.g. 2025-2026")


class GradebookService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE)
    principal = Auth()

    @api("POST", "/schools/<string:school_id>/classes/<string:class_id>/terms/<string:term>/lock")
    def lock_term(self, request: Request, school_id: str, class_id: str, term: Term) -> Response:
        caller = self.principal()
        caller.require_role(Role.PRINCIPAL)
        caller.require_school(school_id)
        body = parse_body(request, LockTermRequest)
        if term not in ("hk1", "hk2"):
            raise Problem(404, "unknown-term", "Unknown term", "Học kỳ phải là hk1 hoặc hk2.")
        cmd = LockTerm(
            school_id, class_id, body.class_name, body.grade, body.school_year, term, caller.user_id
        )
        uow = GradebookUnitOfWork(
            self.db, correlation_id=request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        )
        event = handlers.lock_term(cmd, uow)
        return json_response(
            {"locked_at": event.locked_at.isoformat(), "content_hash": event.snapshot.content_hash},
            status=201,
        )
