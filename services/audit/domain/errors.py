"""Audit errors: one base, ``AuditError``, for the refusals of the audit log's use cases.

Not every failure here is one. ``LoginMayChangeTheLog`` (store/login.py) stays a ``RuntimeError``: it is no
refusal of a request but the process declining to start with credentials that could rewrite the log — nobody
retries it or maps it to a response, an operator fixes the deployment. A broken chain is no error either: the
verifier returns it as a finding (domain/chain.py ``Break``).
"""

from __future__ import annotations

from typing import ClassVar


class AuditError(Exception):
    """Base of every audit refusal.

    ``transient`` marks each subclass: False (the default) is permanent — asking again gives the same answer;
    True means a retry may succeed.
    """

    transient: ClassVar[bool] = False


class NothingToExport(AuditError, ValueError):
    """The school's chain has no entries (in the school year asked for): there is nothing to seal.

    Also a ``ValueError``, which is what ``hocba audit export`` catches to print the message and exit 1.
    """

    def __init__(self, school_id: str, school_year: str | None) -> None:
        super().__init__(f"no audit entries for {school_id}" + (f" in {school_year}" if school_year else ""))
        self.school_id, self.school_year = school_id, school_year
