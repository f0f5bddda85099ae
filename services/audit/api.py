"""The audit service's route table: the OpenAPI document is generated from it."""

from __future__ import annotations

from services.audit.app.handlers import LogQuery
from services.runtime.openapi import Route

# Operators run the platform and read no school's entries (issue 28 item 7).
READERS = ("principal", "inspector")

LOG = Route(
    "GET",
    "/schools/{school_id}/audit",
    "A school's audit log in chain order, filtered and paginated",
    None,
    READERS,
    description="Page with `after` = the previous page's `next_after` (null on the last page). A principal "
    "or inspector reads their own school only.",
    query=LogQuery,
)
GRADE_HISTORY = Route(
    "GET",
    "/schools/{school_id}/audit/grades/{class_id}/{subject}/{term}/{student_id}",
    "The full history of one grade value, from entry through the lock to each amendment",
    None,
    READERS,
    description="`subject` is a subject code (e.g. `toan`), or `homeroom` for conduct and comments; `term` is "
    "`hk1` or `hk2`. `steps`, in the order they happened (`occurred_at`; each keeps its `chain_seq`, and the chain may hold two events committed a moment apart the other way round): each value recorded (`value`, with `changes` as `old → new` "
    "and the hashes of the whole value before and after, as the gradebook sent them), the class's lock and "
    "unlock of that term (`lock`, `unlock`), each amendment request (`amendment_request`, teacher and "
    "reason), its decision (`amendment_approval` or `amendment_rejection`, the principal's note) and the "
    "amended value (`amended_value`); `approved_by` names the approving principal. `amendments` sums up "
    "each amendment: who asked, why, its status, who decided. A principal or inspector reads their own "
    "school only.",
)
ROUTES = [LOG, GRADE_HISTORY]
