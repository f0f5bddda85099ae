"""Gradebook errors: each names the fact, carries the HTTP status, an English title and a Vietnamese detail.

Every gradebook error derives from ``GradebookError`` — these here, and those beside the rule or adapter that
raises them (``TermLockError`` in term_lock.py, ``MarkInvalid`` in marks.py, the upload limits in
app/uploads.py) — so the service maps one base to problem+json at its edge.
"""

from __future__ import annotations

from typing import ClassVar


class GradebookError(Exception):
    """Base of every gradebook refusal.

    ``transient`` marks each subclass: False (the default) is permanent — retrying the same request gives the same
    answer, so a consumer dead-letters it at once; True means a retry may succeed.
    """

    http_status = 400
    slug = "gradebook"
    title = "Request refused"
    transient: ClassVar[bool] = False

    def __init__(self, detail_vi: str, *, log: str | None = None) -> None:
        super().__init__(log or detail_vi)
        self.detail_vi = detail_vi

    def problem_extensions(self) -> dict[str, object]:
        """Extra members of the problem+json body (e.g. the rejected rows)."""
        return {}


class NotFound(GradebookError):
    http_status = 404
    slug = "not-found"
    title = "Not found"


class NotPermitted(GradebookError):
    http_status = 403
    slug = "forbidden"
    title = "Forbidden"


class TermIsLocked(GradebookError):
    http_status = 409
    slug = "term-locked"
    title = "Term is locked"


class AmendmentNotAllowed(GradebookError):
    http_status = 409
    slug = "amendment-not-allowed"
    title = "Amendment not allowed"


class ImportRejected(GradebookError):
    http_status = 422
    slug = "import-rejected"
    title = "Import rejected"

    def __init__(self, detail_vi: str, rejected: list[dict[str, object]]) -> None:
        super().__init__(detail_vi)
        self.rejected = rejected

    def problem_extensions(self) -> dict[str, object]:
        return {"errors": self.rejected}


class RuleInputError(GradebookError):
    """Input to the rules is invalid: ``field`` is the JSON path, ``problem`` says what is wrong (English, CLI)."""

    http_status = 422
    slug = "rule-input"
    title = "Invalid assessment data"

    def __init__(self, field: str, problem: str, detail_vi: str | None = None) -> None:
        super().__init__(detail_vi or f"{field}: {problem}", log=f"{field}: {problem}")
        self.field, self.problem = field, problem

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


class ForeignRowsSkipped(GradebookError):
    """An import's upsert met rows another school owns (a race past the foreign-id check): nothing may be kept.

    Transient: the import rolls back and checks again, which then names the rows (``ImportRejected``).
    """

    http_status = 409
    slug = "foreign-rows-skipped"
    title = "Rows belong to another school"
    transient = True

    def __init__(self, log: str) -> None:
        super().__init__("Một số mã vừa được trường khác sử dụng. Gửi lại tệp.", log=log)
