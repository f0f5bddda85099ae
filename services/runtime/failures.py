"""Which handler failures may pass on a later try (retried through the broker) and which never will (DLQ now)."""

from __future__ import annotations

import socket

import amqp.exceptions
import httpx
import kombu.exceptions
import psycopg
import sqlalchemy.exc

from services.runtime.documents import DocumentUnavailable

# A dependency of ours that did not answer, or a link to it that broke: the same message may pass in a minute.
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    # PostgreSQL: connection lost, admin shutdown, too many connections, serialization failure, deadlock, lock
    # timeout, statement cancelled (all psycopg.OperationalError, SerializationFailure and DeadlockDetected too).
    psycopg.OperationalError,
    # SQLAlchemy's own: the pool gave no connection in time, or a pooled one was found dead.
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.DisconnectionError,
    # The broker: kombu's connection errors, and amqp's "try again" ones (forced close, resource alarm, blocked).
    kombu.exceptions.OperationalError,
    amqp.exceptions.RecoverableConnectionError,
    # HTTP to our other services or the province: timeouts and broken connections (not a malformed URL).
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    # Sockets: refused, reset, timed out (socket.timeout is TimeoutError), name resolution failed.
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    # Another of our services did not hand over a document: down, or it has not committed it yet (404).
    DocumentUnavailable,
)


def is_transient(error: BaseException) -> bool:
    """True when retrying the same message later may succeed; False for a contract violation, a domain refusal or a
    bug, which fail the same way every time (dead-lettered at once).

    A service error says so itself: each service's error base carries ``transient`` (a class flag, False unless a
    subclass sets it), and that flag wins over anything else the error is. A SQLAlchemy error is judged by the
    driver's error it wraps (``.orig``), unless SQLAlchemy found the connection dead (``connection_invalidated``).
    """
    flag = getattr(type(error), "transient", None)
    if isinstance(flag, bool):
        return flag
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        return isinstance(error.orig, BaseException) and is_transient(error.orig)
    return isinstance(error, _TRANSIENT_TYPES)
