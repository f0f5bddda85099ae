"""Sync errors: each names the fact, carries the HTTP status, an English title and a Vietnamese detail.

Every sync refusal derives from ``SyncError``, so the service lists one base among its expected exceptions and
the runtime maps it to problem+json at the edge (services/runtime/http.py reads ``http_status``, ``slug``,
``title`` and ``detail_vi``).
"""

from __future__ import annotations

from typing import ClassVar


class SyncError(Exception):
    """Base of every sync refusal.

    ``transient`` marks each subclass: False (the default) is permanent — retrying the same request gives the same
    answer; True means a retry may succeed (the province's gateway did not answer).
    """

    http_status = 409
    slug = "sync"
    title = "Request refused"
    transient: ClassVar[bool] = False

    def __init__(self, detail_vi: str) -> None:
        super().__init__(detail_vi)
        self.detail_vi = detail_vi


class SyncRefused(SyncError):
    """A request sync cannot carry out as asked: unknown record or request, already decided, not yet reportable.

    The status varies with the reason (404 unknown, 409 conflict, 422 invalid), so it is given per refusal.
    """

    slug = "sync-refused"

    def __init__(self, detail_vi: str, status: int = 409) -> None:
        super().__init__(detail_vi)
        self.http_status = status


class NoGatewayCredentials(SyncRefused):
    """The school has no gateway token this deployment can read: an operator must store one first."""

    def __init__(self) -> None:
        super().__init__("Trường chưa được cấu hình tài khoản cổng tiếp nhận của Sở.", 503)


class GatewayUnavailable(SyncRefused):
    """The province's gateway failed or did not answer (502): the same request may succeed later."""

    transient = True

    def __init__(self, detail_vi: str) -> None:
        super().__init__(detail_vi, 502)


def gateway_refusal(detail_vi: str, answer_status: int | None) -> SyncRefused:
    """The error for a gateway answer other than success: transient when it failed or never answered, else 409."""
    if answer_status is None or answer_status >= 500:
        return GatewayUnavailable(detail_vi)
    return SyncRefused(detail_vi, 409)


class CutoffPassed(SyncError):
    """The province's reporting cutoff for the record has passed: it is effective and can no longer change."""

    slug = "cutoff-passed"
    title = "Reporting cutoff passed"
