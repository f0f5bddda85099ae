"""Signing readiness before the cutoff: per class who is holding things up, whose certificate will not last, and
when the school will finish at the pace it is signing now."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.signing.domain.model import ROLE_TITLES, RecordProgress, Signer

# Days are Vietnam's (services/runtime/calendar.py says why); the domain takes the zone from the standard library.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def cutoff_for(school_year: str, month_day: str = "06-30") -> date:
    """The reporting cutoff of a school year "2025-2026": 30 June 2026 unless configured otherwise."""
    end_year = int(school_year.split("-")[1])
    month, day = (int(x) for x in month_day.split("-"))
    return date(end_year, month, day)


def readiness(
    progress: Iterable[RecordProgress],
    unsigned_steps: int,
    signers: Iterable[Signer],
    certificates: Mapping[str, datetime],
    signed_last_hour: int,
    cutoff: date,
    now: datetime,
) -> dict[str, Any]:
    classes: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"records": 0, "sealed": 0, "sealing": 0, "collecting": 0, "waiting_for": {}}
    )
    for row in progress:
        entry = classes[row.class_id]
        entry["records"] += 1
        entry[row.status] = entry.get(row.status, 0) + 1
        next_signer = row.waiting_for
        # A collecting record always has a next step; only a sealed one is past its plan.
        if row.status == "collecting" and next_signer is not None:
            waiting = entry["waiting_for"].setdefault(
                next_signer.signer_id,
                {
                    "signer_id": next_signer.signer_id,
                    "signer_name": next_signer.signer_name,
                    "role": next_signer.role,
                    "role_title": ROLE_TITLES.get(next_signer.role, next_signer.role),
                    "records": 0,
                },
            )
            waiting["records"] += 1
    # A certificate must last to the end of the cutoff day in Vietnam.
    deadline = datetime.combine(cutoff, datetime.max.time()).replace(tzinfo=VIETNAM)
    no_certificate, expiring = [], []
    for signer in signers:
        if signer.role == "school_seal":
            continue
        not_after = certificates.get(signer.signer_id)
        person = {"signer_id": signer.signer_id, "signer_name": signer.signer_name, "role": signer.role}
        if not_after is None:
            no_certificate.append(person)
        elif not_after < deadline:
            expiring.append({**person, "not_after": not_after.isoformat()})
    projected = None
    if unsigned_steps == 0:
        projected = now
    elif signed_last_hour > 0:
        projected = now + timedelta(hours=unsigned_steps / signed_last_hour)
    return {
        "cutoff": cutoff.isoformat(),
        "days_to_cutoff": (cutoff - now.astimezone(VIETNAM).date()).days,
        "classes": [
            {
                "class_id": class_id,
                **{
                    **entry,
                    "waiting_for": sorted(entry["waiting_for"].values(), key=lambda w: w["signer_id"]),
                },
            }
            for class_id, entry in sorted(classes.items())
        ],
        "unsigned_steps": unsigned_steps,
        "signatures_last_hour": signed_last_hour,
        "projected_finish": projected.isoformat() if projected else None,
        "finishes_before_cutoff": projected is not None and projected <= deadline,
        "signers_without_certificate": no_certificate,
        "certificates_expiring_before_cutoff": expiring,
    }
