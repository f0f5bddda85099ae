"""Transcript errors: each names the fact, carries the HTTP status, an English title and a Vietnamese detail.

Every transcript error derives from ``TranscriptError`` — these here, and those beside the code that raises them
(``YearAlreadyRecorded`` in app/digitise.py, ``InvalidPackage`` in documents/xml_package.py, ``FontMissing`` in
documents/pdf_form.py) — so the service maps one base to problem+json at its edge.
"""

from __future__ import annotations

from typing import ClassVar


class TranscriptError(Exception):
    """Base of the transcript service's refusals.

    ``transient`` marks each subclass: False (the default) is permanent — the same event or request gets the same
    answer, so a consumer dead-letters it at once; True means a retry may succeed.
    """

    http_status = 400
    slug = "transcript"
    title = "Request refused"
    transient: ClassVar[bool] = False

    def __init__(self, detail_vi: str, *, log: str | None = None) -> None:
        super().__init__(log or detail_vi)
        self.detail_vi = detail_vi


class MalformedSnapshot(TranscriptError):
    """A locked snapshot that cannot make a học bạ (permanent: dead-lettered with this reason)."""


class RecordNotFound(TranscriptError):
    http_status = 404
    slug = "not-found"
    title = "Not found"


class InternalFault(TranscriptError):
    """The service's own fault, not the request's: answered as any unexpected error is (services/runtime/http.py,
    ``problem_for``), so the caller learns nothing of the cause; the cause is in ``str(error)`` for the log."""

    http_status = 500
    slug = "internal"
    title = "Internal Server Error"

    def __init__(self, log: str) -> None:
        super().__init__("Lỗi hệ thống, vui lòng thử lại sau.", log=log)
