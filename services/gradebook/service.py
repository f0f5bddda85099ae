"""Gradebook HTTP entrypoints (nameko): parse → command → handler; errors become problem+json at the edge."""

from __future__ import annotations

import json
from typing import Any, cast

from werkzeug.wrappers import Request, Response

from contracts.envelope import Envelope
from contracts.sync import TranscriptTransferredV1
from services.gradebook import api
from services.gradebook.app import (
    amendments,
    awards,
    carried,
    exemptions,
    handlers,
    handover,
    individual_plans,
    master_data,
    summer,
)
from services.gradebook.app.unit_of_work import SERVICE, GradebookUnitOfWork
from services.gradebook.app.uploads import check_row_count, rows_from_upload
from services.gradebook.bootstrap import bootstrap
from services.gradebook.domain import commands
from services.gradebook.domain.cutoff import ReportingCalendar
from services.gradebook.domain.errors import GradebookError
from services.gradebook.domain.permissions import Actor
from services.gradebook.domain.roster import KINDS
from services.gradebook.domain.term_lock import Term
from services.runtime.auth import Auth
from services.runtime.database import Database
from services.runtime.handlers import reliable_handler
from services.runtime.http import HealthEndpoints, Problem, json_response, parse_body, request_correlation_id
from services.runtime.http import api as http
from services.runtime.openapi import openapi_document, werkzeug_path
from services.runtime.wiring import Wiring

ROUTES = {(r.method, r.path): werkzeug_path(r.path) for r in api.ROUTES}
ROLES = {(r.method, r.path): tuple(r.roles) for r in api.ROUTES}


def route(method: str, path: str, **kwargs: Any) -> Any:
    return http(method, ROUTES[(method, path)], expected_exceptions=(GradebookError,), **kwargs)


def _term(term: str) -> Term:
    if term not in ("hk1", "hk2"):
        raise Problem(404, "unknown-term", "Unknown term", "Học kỳ phải là hk1 hoặc hk2.")
    return cast(Term, term)


class GradebookService(HealthEndpoints):
    name = SERVICE

    db = Database(SERVICE)
    principal = Auth()
    wiring = Wiring(bootstrap)

    def _actor(self) -> Actor:
        caller = self.principal()
        return Actor(
            caller.user_id,
            frozenset(r.value for r in caller.roles),
            caller.school_id,
            caller.inspected_schools,
        )

    def unit_of_work(self, *, correlation_id: str | None = None) -> GradebookUnitOfWork:
        return GradebookUnitOfWork(self.db, correlation_id=correlation_id)

    def _uow(self, request: Request) -> GradebookUnitOfWork:
        """The request's unit of work (its correlation id carried on to what it emits)."""
        return self.unit_of_work(correlation_id=request_correlation_id(request))

    def _calendar(self) -> ReportingCalendar:
        """Today (Vietnam's, or the rehearsal's) and the province's cutoffs, for the amendment window."""
        return ReportingCalendar(self.wiring.today(), self.wiring.cutoffs)

    @reliable_handler("sync", TranscriptTransferredV1, consumer=handover.CONSUMER)
    def on_transferred(self, envelope: Envelope[TranscriptTransferredV1], uow: GradebookUnitOfWork) -> None:
        handover.hand_over_term(envelope.data, uow)

    @http("GET", "/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(openapi_document("Học bạ số — gradebook", "1.0.0", api.ROUTES))

    @route("PUT", "/schools/{school_id}")
    def put_school(self, request: Request, school_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_school(actor, school_id, ROLES[("PUT", "/schools/{school_id}")])
        body = parse_body(request, api.SchoolIn)
        return json_response(
            master_data.declare_school(actor, school_id, body.model_dump(), self._uow(request))
        )

    @route("POST", "/schools/{school_id}/imports/{kind}", body_limit="upload")
    def import_rows(self, request: Request, school_id: str, kind: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_school(actor, school_id, ROLES[("POST", "/schools/{school_id}/imports/{kind}")])
        if kind not in KINDS:
            raise Problem(
                404, "unknown-import", "Unknown import kind", f"Loại dữ liệu phải là: {', '.join(KINDS)}."
            )
        content_type = request.headers.get("Content-Type", "application/json")
        max_rows = self.wiring.import_max_rows
        if content_type.startswith("application/json"):
            rows = parse_body(request, api.ImportRowsIn).rows
            check_row_count(rows, max_rows)
        else:
            rows = rows_from_upload(content_type, request.get_data(), max_rows=max_rows)
        result = master_data.import_master_data(
            commands.ImportMasterData(actor, school_id, kind, rows), self._uow(request), self.wiring.vault
        )
        return json_response(result, status=201)

    @route("PUT", "/classes/{class_id}/subjects/{subject_code}/terms/{term}/marks")
    def put_marks(self, request: Request, class_id: str, subject_code: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("PUT", "/classes/{class_id}/subjects/{subject_code}/terms/{term}/marks")],
            self._uow(request),
        )
        body = parse_body(request, api.MarksIn)
        entries = [json.loads(e.model_dump_json(exclude_unset=True)) for e in body.entries]
        cmd = commands.RecordMarks(actor, class_id, subject_code, _term(term), entries)
        return json_response(handlers.record_marks(cmd, self._uow(request)))

    @route("PUT", "/classes/{class_id}/terms/{term}/homeroom")
    def put_homeroom(self, request: Request, class_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor, class_id, ROLES[("PUT", "/classes/{class_id}/terms/{term}/homeroom")], self._uow(request)
        )
        body = parse_body(request, api.HomeroomIn)
        entries = [e.model_dump(exclude_unset=True) for e in body.entries]
        cmd = commands.RecordHomeroom(actor, class_id, _term(term), entries)
        return json_response(handlers.record_homeroom(cmd, self._uow(request)))

    @route("GET", "/classes/{class_id}/sheet")
    def sheet(self, request: Request, class_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(actor, class_id, ROLES[("GET", "/classes/{class_id}/sheet")], self._uow(request))
        term = _term(request.args.get("term", "hk1"))
        return json_response(handlers.class_sheet(actor, class_id, term, self._uow(request)))

    @route("GET", "/classes/{class_id}/students/{student_id}/results")
    def student_results(self, request: Request, class_id: str, student_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("GET", "/classes/{class_id}/students/{student_id}/results")],
            self._uow(request),
        )
        return json_response(handlers.student_results(actor, class_id, student_id, self._uow(request)))

    @route("POST", "/classes/{class_id}/terms/{term}/lock")
    def lock(self, request: Request, class_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor, class_id, ROLES[("POST", "/classes/{class_id}/terms/{term}/lock")], self._uow(request)
        )
        body = parse_body(request, api.LockIn)
        cmd = commands.LockTerm(
            actor, class_id, _term(term), frozenset(body.incomplete_accepted), body.reason
        )
        return json_response(handlers.lock_term(cmd, self._uow(request)), status=201)

    @route("POST", "/classes/{class_id}/terms/{term}/unlock")
    def unlock(self, request: Request, class_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor, class_id, ROLES[("POST", "/classes/{class_id}/terms/{term}/unlock")], self._uow(request)
        )
        body = parse_body(request, api.ReasonIn)
        cmd = commands.UnlockTerm(actor, class_id, _term(term), body.reason)
        return json_response(handlers.unlock_term(cmd, self._uow(request)))

    @route("POST", "/schools/{school_id}/terms/{term}/lock")
    def lock_school(self, request: Request, school_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_school(actor, school_id, ROLES[("POST", "/schools/{school_id}/terms/{term}/lock")])
        return json_response(handlers.lock_school(actor, school_id, _term(term), lambda: self._uow(request)))

    @route("POST", "/schools/{school_id}/terms/{term}/unlock")
    def unlock_school(self, request: Request, school_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_school(actor, school_id, ROLES[("POST", "/schools/{school_id}/terms/{term}/unlock")])
        body = parse_body(request, api.ReasonIn)
        return json_response(
            handlers.unlock_school(actor, school_id, _term(term), body.reason, lambda: self._uow(request))
        )

    @route("POST", "/classes/{class_id}/terms/{term}/amendments")
    def propose(self, request: Request, class_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("POST", "/classes/{class_id}/terms/{term}/amendments")],
            self._uow(request),
        )
        body = parse_body(request, api.AmendmentIn)
        cmd = commands.ProposeAmendment(
            actor,
            class_id,
            _term(term),
            body.student_id,
            body.subject_code,
            json.loads(json.dumps(body.after)),
            body.reason,
        )
        return json_response(
            amendments.propose_amendment(cmd, self._uow(request), self._calendar()), status=201
        )

    @route("POST", "/amendments/{amendment_id}/decision")
    def decide(self, request: Request, amendment_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_amendment(
            actor, amendment_id, ROLES[("POST", "/amendments/{amendment_id}/decision")], self._uow(request)
        )
        body = parse_body(request, api.DecisionIn)
        cmd = commands.DecideAmendment(actor, amendment_id, body.approve, body.note)
        return json_response(amendments.decide_amendment(cmd, self._uow(request), self._calendar()))

    @route("GET", "/schools/{school_id}/amendments")
    def amendments(self, request: Request, school_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_school(actor, school_id, ROLES[("GET", "/schools/{school_id}/amendments")])
        return json_response(
            amendments.list_amendments(actor, school_id, request.args.get("status"), self._uow(request))
        )

    @route("POST", "/classes/{class_id}/students/{student_id}/exemptions")
    def decide_exemption(self, request: Request, class_id: str, student_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("POST", "/classes/{class_id}/students/{student_id}/exemptions")],
            self._uow(request),
        )
        body = parse_body(request, api.ExemptionIn)
        cmd = commands.DecideExemption(
            actor, class_id, student_id, body.subject_code, body.period, body.reason
        )
        return json_response(exemptions.decide_exemption(cmd, self._uow(request)), status=201)

    @route("GET", "/classes/{class_id}/exemptions")
    def class_exemptions(self, request: Request, class_id: str) -> Response:
        actor = self._actor()
        handlers.admit_class(
            actor, class_id, ROLES[("GET", "/classes/{class_id}/exemptions")], self._uow(request)
        )
        return json_response(exemptions.list_exemptions(actor, class_id, self._uow(request)))

    @route("POST", "/exemptions/{exemption_id}/revoke")
    def revoke_exemption(self, request: Request, exemption_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_exemption(
            actor, exemption_id, ROLES[("POST", "/exemptions/{exemption_id}/revoke")], self._uow(request)
        )
        body = parse_body(request, api.ReasonIn)
        cmd = commands.RevokeExemption(actor, exemption_id, body.reason)
        return json_response(exemptions.revoke_exemption(cmd, self._uow(request)))

    @route("PUT", "/classes/{class_id}/subjects/{subject_code}/summer/retest")
    def put_retests(self, request: Request, class_id: str, subject_code: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("PUT", "/classes/{class_id}/subjects/{subject_code}/summer/retest")],
            self._uow(request),
        )
        body = parse_body(request, api.RetestIn)
        entries = [json.loads(e.model_dump_json()) for e in body.entries]
        cmd = commands.RecordRetests(actor, class_id, subject_code, entries)
        return json_response(summer.record_retests(cmd, self._uow(request)))

    @route("PUT", "/classes/{class_id}/summer/conduct")
    def put_summer_conduct(self, request: Request, class_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor, class_id, ROLES[("PUT", "/classes/{class_id}/summer/conduct")], self._uow(request)
        )
        body = parse_body(request, api.SummerConductIn)
        cmd = commands.RecordSummerConduct(actor, class_id, [e.model_dump() for e in body.entries])
        return json_response(summer.record_summer_conduct(cmd, self._uow(request)))

    @route("POST", "/classes/{class_id}/summer/lock")
    def lock_summer(self, request: Request, class_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor, class_id, ROLES[("POST", "/classes/{class_id}/summer/lock")], self._uow(request)
        )
        body = parse_body(request, api.SummerLockIn)
        cmd = commands.LockSummer(
            actor, class_id, frozenset(body.incomplete_accepted), body.reason, frozenset(body.promoted)
        )
        return json_response(summer.lock_summer(cmd, self._uow(request), self._calendar()), status=201)

    @route("POST", "/classes/{class_id}/students/{student_id}/awards")
    def decide_award(self, request: Request, class_id: str, student_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("POST", "/classes/{class_id}/students/{student_id}/awards")],
            self._uow(request),
        )
        body = parse_body(request, api.AwardIn)
        cmd = commands.DecideAward(actor, class_id, student_id, body.kind, body.reason)
        return json_response(awards.decide_award(cmd, self._uow(request)), status=201)

    @route("GET", "/classes/{class_id}/awards")
    def class_awards(self, request: Request, class_id: str) -> Response:
        actor = self._actor()
        handlers.admit_class(
            actor, class_id, ROLES[("GET", "/classes/{class_id}/awards")], self._uow(request)
        )
        return json_response(awards.list_awards(actor, class_id, self._uow(request)))

    @route("POST", "/awards/{award_id}/revoke")
    def revoke_award(self, request: Request, award_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_award(
            actor, award_id, ROLES[("POST", "/awards/{award_id}/revoke")], self._uow(request)
        )
        body = parse_body(request, api.ReasonIn)
        cmd = commands.RevokeAward(actor, award_id, body.reason)
        return json_response(awards.revoke_award(cmd, self._uow(request)))

    @route("POST", "/classes/{class_id}/students/{student_id}/individual-plans")
    def decide_individual_plan(self, request: Request, class_id: str, student_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("POST", "/classes/{class_id}/students/{student_id}/individual-plans")],
            self._uow(request),
        )
        body = parse_body(request, api.IndividualPlanIn)
        cmd = commands.DecideIndividualPlan(actor, class_id, student_id, tuple(body.subjects), body.reason)
        return json_response(individual_plans.decide_plan(cmd, self._uow(request)), status=201)

    @route("GET", "/classes/{class_id}/individual-plans")
    def class_individual_plans(self, request: Request, class_id: str) -> Response:
        actor = self._actor()
        handlers.admit_class(
            actor, class_id, ROLES[("GET", "/classes/{class_id}/individual-plans")], self._uow(request)
        )
        return json_response(individual_plans.list_plans(actor, class_id, self._uow(request)))

    @route("POST", "/individual-plans/{plan_id}/withdraw")
    def withdraw_individual_plan(self, request: Request, plan_id: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_plan(
            actor, plan_id, ROLES[("POST", "/individual-plans/{plan_id}/withdraw")], self._uow(request)
        )
        body = parse_body(request, api.ReasonIn)
        cmd = commands.WithdrawIndividualPlan(actor, plan_id, body.reason)
        return json_response(individual_plans.withdraw_plan(cmd, self._uow(request)))

    @route("PUT", "/classes/{class_id}/students/{student_id}/carried-terms/{term}")
    def put_carried_term(self, request: Request, class_id: str, student_id: str, term: str) -> Response:
        actor = self._actor()
        # Tenancy and role before the body is read: another school's id answers like an unknown one.
        handlers.admit_class(
            actor,
            class_id,
            ROLES[("PUT", "/classes/{class_id}/students/{student_id}/carried-terms/{term}")],
            self._uow(request),
        )
        body = parse_body(request, api.CarriedTermIn)
        cmd = commands.RecordCarriedTerm(
            actor,
            class_id,
            student_id,
            _term(term),
            body.from_school_id,
            body.from_school_name,
            {code: str(value) for code, value in body.subjects.items()},
            body.conduct,
            body.absences,
            body.source,
        )
        return json_response(carried.record_carried_term(cmd, self._uow(request)))
