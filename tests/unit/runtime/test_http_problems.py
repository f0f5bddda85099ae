"""What an HTTP caller is told when a request fails on something other than a refusal: retry (503) or not (500)."""

import psycopg.errors
import sqlalchemy.exc

from services.runtime.http import problem_for


def test_a_request_whose_database_connection_was_terminated_is_a_503_to_retry():
    # What a statement in flight raises when PostgreSQL restarts or its backend is terminated (pg_terminate_backend).
    terminated = sqlalchemy.exc.OperationalError(
        "SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    )
    problem = problem_for(terminated)
    assert (problem.status, problem.slug) == (503, "temporarily-unavailable")
    assert problem.detail_vi.startswith("Hệ thống tạm thời gián đoạn")


def test_a_bug_stays_a_500():
    problem = problem_for(KeyError("year_record_id"))
    assert (problem.status, problem.slug) == (500, "internal")
