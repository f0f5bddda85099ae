"""Which failures are retried and which are dead-lettered at once; the backoff and the attempt headers."""

import socket
from datetime import UTC, datetime

import amqp.exceptions
import httpx
import kombu.exceptions
import psycopg
import psycopg.errors
import pytest
import sqlalchemy.exc
from pydantic import BaseModel, ValidationError

from services.gradebook.domain.errors import ForeignRowsSkipped, GradebookError, NotFound
from services.runtime.documents import DocumentCorrupted, DocumentUnavailable
from services.runtime.failures import is_transient
from services.runtime.handlers import WrongSource
from services.runtime.retry import (
    HEADER_ATTEMPTS,
    HEADER_HISTORY,
    HISTORY_KEPT,
    attempts_made,
    backoff_seconds,
    history_of,
    with_attempt,
)
from services.signing.domain.errors import SealUnavailable, SigningError, TimestampUnavailable
from services.sync.domain.errors import GatewayUnavailable, SyncRefused


def wrapped(orig: BaseException, cls: type[sqlalchemy.exc.DBAPIError] = sqlalchemy.exc.OperationalError):
    """What SQLAlchemy raises for a driver error: the driver's own in ``.orig``."""
    return cls("UPDATE marks SET score = %(score)s", {"score": 7}, orig)


def validation_error() -> ValidationError:
    class Model(BaseModel):
        n: int

    try:
        Model.model_validate({"n": "many"})
    except ValidationError as error:
        return error
    raise AssertionError("validated")


TRANSIENT = {
    "serialization failure": psycopg.errors.SerializationFailure("could not serialize access"),
    "deadlock": psycopg.errors.DeadlockDetected("deadlock detected"),
    "connection lost (psycopg)": psycopg.OperationalError("server closed the connection unexpectedly"),
    "admin shutdown": psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
    "serialization failure through SQLAlchemy": wrapped(psycopg.errors.SerializationFailure("x")),
    "deadlock through SQLAlchemy": wrapped(psycopg.errors.DeadlockDetected("x")),
    "connection lost through SQLAlchemy": wrapped(psycopg.OperationalError("x")),
    "invalidated connection": sqlalchemy.exc.DBAPIError(
        "SELECT 1", {}, RuntimeError("socket gone"), connection_invalidated=True
    ),
    "pool timeout": sqlalchemy.exc.TimeoutError("QueuePool limit reached"),
    "timeout": TimeoutError("timed out"),
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "reset": ConnectionResetError(104, "Connection reset by peer"),
    "name resolution": socket.gaierror(-3, "Temporary failure in name resolution"),
    "httpx connect timeout": httpx.ConnectTimeout("timed out"),
    "httpx read timeout": httpx.ReadTimeout("timed out"),
    "httpx connect error": httpx.ConnectError("refused"),
    "httpx server hung up": httpx.RemoteProtocolError("Server disconnected without sending a response"),
    "kombu connection": kombu.exceptions.OperationalError("[Errno 111] Connection refused"),
    "amqp forced close": amqp.exceptions.ConnectionForced(
        "CONNECTION_FORCED - broker forced connection closure"
    ),
    "document not there yet": DocumentUnavailable("document service answered 404 for ab12"),
    "gradebook transient": ForeignRowsSkipped("rows taken meanwhile"),
    "signing transient": TimestampUnavailable("TSA down"),
    "seal transient": SealUnavailable("HSM unreachable"),
    "sync transient": GatewayUnavailable("gateway 502"),
}

PERMANENT = {
    "a bug": ValueError("cannot handle e-1"),
    "a missing key": KeyError("school_id"),
    "contract violation": validation_error(),
    "wrong source": WrongSource("q", "other.events", "gradebook.events"),
    "unique violation through SQLAlchemy": wrapped(
        psycopg.errors.UniqueViolation("duplicate key"), sqlalchemy.exc.IntegrityError
    ),
    "check violation through SQLAlchemy": wrapped(
        psycopg.errors.CheckViolation("violates check constraint"), sqlalchemy.exc.IntegrityError
    ),
    "SQL bug through SQLAlchemy": wrapped(
        psycopg.errors.UndefinedColumn("column does not exist"), sqlalchemy.exc.ProgrammingError
    ),
    "file not found (an OSError, not a network one)": FileNotFoundError(2, "No such file"),
    "httpx malformed URL": httpx.UnsupportedProtocol(
        "Request URL is missing an 'http://' or 'https://' protocol"
    ),
    "amqp access refused": amqp.exceptions.AccessRefused("ACCESS_REFUSED"),
    "document corrupted": DocumentCorrupted("sha256 mismatch"),
    "gradebook domain refusal": NotFound("Không tìm thấy"),
    "gradebook base": GradebookError("refused"),
    "signing base": SigningError("refused"),
    "sync refusal": SyncRefused("bị từ chối", 409),
}


@pytest.mark.parametrize("error", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_transient_failures_are_retried(error):
    assert is_transient(error) is True


@pytest.mark.parametrize("error", PERMANENT.values(), ids=PERMANENT.keys())
def test_contract_domain_and_bug_failures_are_permanent(error):
    assert is_transient(error) is False


def test_a_service_errors_own_flag_wins_over_what_else_it_is():
    class PermanentTimeout(TimeoutError):
        transient = False

    class RetriableBug(ValueError):
        transient = True

    assert is_transient(PermanentTimeout()) is False
    assert is_transient(RetriableBug()) is True


def test_backoff_doubles_from_the_base_with_up_to_a_quarter_of_jitter_and_stops_at_the_cap():
    assert [backoff_seconds(n, 1.0, 300, jitter=lambda: 0.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_seconds(3, 1.0, 300, jitter=lambda: 1.0) == 5.0  # 4 × 1.25
    assert backoff_seconds(20, 1.0, 300, jitter=lambda: 0.5) == 300
    for _ in range(200):
        assert 2.0 <= backoff_seconds(2, 1.0, 300) <= 2.5


def test_each_attempt_is_counted_and_recorded_with_its_exception_scrubbed():
    at = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    first = with_attempt({"other": "kept"}, 1, TimeoutError("no answer for personal_id=001312012345"), at)
    second = with_attempt(first, 2, psycopg.errors.SerializationFailure("again"), at)
    assert second["other"] == "kept" and attempts_made(second) == second[HEADER_ATTEMPTS] == 2
    history = history_of(second)
    assert [h["attempt"] for h in history] == ["1", "2"]
    assert history[0]["error"] == "builtins.TimeoutError" and history[0]["at"] == at.isoformat()
    assert history[1]["error"] == "psycopg.errors.SerializationFailure"
    assert "001312012345" not in history[0]["detail"]


def test_the_history_stays_short_and_a_forged_count_is_no_count():
    headers: dict = {}
    for n in range(1, HISTORY_KEPT + 6):
        headers = with_attempt(headers, n, TimeoutError("x"))
    assert len(headers[HEADER_HISTORY]) == HISTORY_KEPT
    assert headers[HEADER_HISTORY][-1]["attempt"] == str(HISTORY_KEPT + 5)
    assert attempts_made({HEADER_ATTEMPTS: "many"}) == 0 and attempts_made({HEADER_ATTEMPTS: -3}) == 0
    assert attempts_made(None) == 0 and history_of({HEADER_HISTORY: "not a list"}) == []
