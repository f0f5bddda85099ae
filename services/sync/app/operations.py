"""What people and timers ask of sync: withdraw a record, repair differences with the gateway, report progress."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any, Protocol

from services.sync.adapters.gateway import Answer
from services.sync.app.handlers import TokenOf, UowFactory, _announce, mark_accepted
from services.sync.domain.errors import (
    CutoffPassed,
    GatewayUnavailable,
    NoGatewayCredentials,
    SyncRefused,
    gateway_refusal,
)
from services.sync.domain.reconcile import differences
from services.sync.domain.rules import check_before_cutoff, cutoff_for


class WithdrawingGateway(Protocol):
    def withdraw(self, token: str, record_id: str, reason: str) -> Answer: ...

    def listing(self, token: str, school_year: str | None = None) -> list[dict[str, Any]] | None: ...


def withdraw(
    new_uow: UowFactory,
    gateway: WithdrawingGateway,
    token_of: TokenOf,
    school_id: str,
    year_record_id: str,
    reason: str,
    today: date,
    cutoffs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Thu hồi before the cutoff; refused locally with the date after it, and never sent then."""
    with new_uow() as uow:
        row = uow.submissions.get(year_record_id, lock=True)
        if row is None or row.school_id != school_id:
            raise SyncRefused(
                "Không tìm thấy bản ghi học bạ này trong các bản ghi đã báo cáo của trường.", 404
            )
        cutoff = cutoff_for(row.school_year, row.assessment, cutoffs)
        check_before_cutoff(today, cutoff, "thu hồi bản ghi")
        if row.status != "accepted" or not row.gateway_record_id:
            raise SyncRefused("Chỉ thu hồi được bản ghi đã được Sở tiếp nhận.")
        token = token_of(uow, school_id)
        if token is None:  # its credentials became unreadable since the record was accepted
            raise NoGatewayCredentials()
        answer = gateway.withdraw(token, row.gateway_record_id, reason)
        if answer.status != 200:
            if answer.reason == "cutoff_passed":
                raise CutoffPassed(answer.body.get("detail") or "Đã quá hạn báo cáo.")
            raise gateway_refusal(
                "Cổng tiếp nhận của Sở chưa thu hồi được bản ghi"
                + (f": {answer.body.get('detail')}" if answer.body.get("detail") else "; hãy thử lại sau."),
                answer.status,
            )
        uow.submissions.update(year_record_id, status="withdrawn", withdrawn_at=datetime.now(UTC))
        _announce(uow, row, "withdrawn", cutoff, reason=None)
        uow.commit()
    return {"year_record_id": year_record_id, "status": "withdrawn", "cutoff": cutoff.isoformat()}


def reconcile(
    new_uow: UowFactory, gateway: WithdrawingGateway, token_of: TokenOf, cutoffs: dict[str, str] | None = None
) -> dict[str, int]:
    """Compare each school's submissions with the gateway's listing and repair what differs."""
    repaired: dict[str, int] = defaultdict(int)
    with new_uow() as uow:
        schools = uow.submissions.schools_with_submissions()
    for school_id in schools:
        with new_uow() as uow:
            token = token_of(uow, school_id)
            if token is None:
                continue
            theirs = gateway.listing(token)
            if theirs is None:
                continue  # the gateway is not answering; the next round will try
            ours = uow.submissions.of_school(school_id)
            for diff in differences(ours, [t for t in theirs if t.get("school_id", school_id) == school_id]):
                row = uow.submissions.get(diff.year_record_id, lock=True)
                if row is None:
                    continue
                cutoff = cutoff_for(row.school_year, row.assessment, cutoffs)
                if diff.repair == "mark_accepted":
                    mark_accepted(uow, row, diff.gateway_record_id, cutoff)
                elif diff.repair == "resubmit":
                    uow.submissions.update(
                        row.year_record_id, status="pending", next_attempt_at=datetime.now(UTC)
                    )
                elif diff.repair == "mark_withdrawn":
                    uow.submissions.update(row.year_record_id, status="withdrawn")
                elif diff.repair == "mark_replaced":
                    uow.submissions.update(row.year_record_id, status="replaced")
                repaired[diff.repair] += 1
            uow.commit()
    return dict(repaired)


def incoming(
    new_uow: UowFactory, gateway: WithdrawingGateway, token_of: TokenOf, school_id: str
) -> list[dict[str, Any]]:
    """Sealed records of students transferred to this school, as the province holds them."""
    with new_uow() as uow:
        token = token_of(uow, school_id)
    if token is None:
        raise NoGatewayCredentials()
    items = gateway.listing(token)
    if items is None:
        raise GatewayUnavailable("Cổng tiếp nhận của Sở không trả lời; hãy thử lại sau.")
    keep = ("id", "transcript_id", "year_record_id", "version", "school_id", "school_year", "grade", "lookup_code",
            "status", "pdf_sha256", "xml_sha256")  # fmt: skip
    return [{k: i.get(k) for k in keep} for i in items if i.get("access") == "transfer"]


def mark_effective(new_uow: UowFactory, today: date, cutoffs: dict[str, str] | None = None) -> int:
    """Past its cutoff an accepted record is effective and can no longer change: say so once (transcript listens)."""
    with new_uow() as uow:
        announced = 0
        for row in uow.submissions.accepted_not_effective():
            cutoff = cutoff_for(row.school_year, row.assessment, cutoffs)
            if today > cutoff:
                uow.submissions.update(row.year_record_id, effective_at=datetime.now(UTC))
                _announce(uow, row, "effective", cutoff)
                announced += 1
        uow.commit()
    return announced


def school_status(
    new_uow: UowFactory, school_id: str, today: date, cutoffs: dict[str, str] | None = None
) -> dict[str, Any]:
    """The principal's view: per class accepted / pending / rejected (with reasons) / withdrawn; days to cutoff."""
    with new_uow() as uow:
        rows = [r for r in uow.submissions.of_school(school_id) if r.status not in ("superseded", "replaced")]
    totals = {"accepted": 0, "pending": 0, "rejected": 0, "withdrawn": 0}
    classes: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = classes.setdefault(
            row.class_id,
            {"class_id": row.class_id, **dict.fromkeys(totals, 0), "rejections": [], "cutoffs": set()},
        )
        status = row.status
        if status in totals:
            entry[status] += 1
            totals[status] += 1
        if status == "rejected":
            entry["rejections"].append(
                {
                    "year_record_id": row.year_record_id,
                    "student_id": row.student_id,
                    "reason": row.rejection_reason,
                    "detail": row.rejection_detail,
                }
            )
        entry["cutoffs"].add(cutoff_for(row.school_year, row.assessment, cutoffs))
    report = []
    for entry in sorted(classes.values(), key=lambda e: e["class_id"]):
        cutoff = min(entry.pop("cutoffs"))
        report.append({**entry, "cutoff": cutoff.isoformat(), "days_to_cutoff": (cutoff - today).days})
    return {"school_id": school_id, **totals, "classes": report}
