"""Request models of the sync service's HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.runtime.auth import SCHOOL_STAFF
from services.runtime.openapi import Route


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialsIn(Strict):
    # Sent back to the gateway in an Authorization header: visible ASCII only, or every later call to the gateway
    # for the school fails to encode it.
    token: str = Field(
        min_length=8,
        max_length=2000,
        pattern=r"^[\x21-\x7e]+$",
        description="The school's token at the province gateway (visible ASCII, no spaces)",
    )


class WithdrawIn(Strict):
    reason: str = Field(min_length=3, max_length=1000, description="Why the school withdraws the record")


class TransferRequestIn(Strict):
    from_school: str = Field(
        min_length=1, max_length=64, description="The sending school's id (the school the student leaves)"
    )
    lookup_code: str = Field(
        min_length=32,
        max_length=40,
        description="The học bạ's lookup code (mã số tra cứu) as printed or in the QR code: 32 hex digits, "
        "hyphens and capitals forgiven. It is what the family brings; the sending school's student ids are not "
        "accepted.",
    )


class TransferDecisionIn(Strict):
    reason: str = Field(min_length=3, max_length=1000, description="Why the sending school refuses")


ROUTES = [
    Route(
        "PUT",
        "/schools/{school_id}/sync/credentials",
        "Store the school's token at the province gateway",
        CredentialsIn,
        ("operator",),
    ),
    Route(
        "GET",
        "/schools/{school_id}/sync/status",
        "Per class: accepted, pending, rejected (with reasons) and withdrawn records; days to the cutoff",
        None,
        SCHOOL_STAFF,
    ),
    Route(
        "POST",
        "/schools/{school_id}/sync/records/{year_record_id}/withdraw",
        "Withdraw a reported record before the cutoff",
        WithdrawIn,
        ("principal",),
    ),
    Route(
        "POST",
        "/schools/{school_id}/sync/transfer-requests",
        "The receiving school asks the sending school for a student's học bạ (by its lookup code)",
        TransferRequestIn,
        ("principal", "staff"),
        "A code of another school's student answers exactly as a code nobody has (404). Asking again while a "
        "request waits returns that request.",
    ),
    Route(
        "GET",
        "/schools/{school_id}/sync/transfer-requests",
        "Transfer requests waiting for this school's decision (`to_decide`) and those it sent (`sent`)",
        None,
        ("principal", "staff"),
    ),
    Route(
        "POST",
        "/schools/{school_id}/sync/transfer-requests/{request_id}/approve",
        "The sending school's principal approves: the học bạ is handed over to the receiving school",
        None,
        ("principal",),
    ),
    Route(
        "POST",
        "/schools/{school_id}/sync/transfer-requests/{request_id}/refuse",
        "The sending school's principal refuses, with a reason; nothing is handed over",
        TransferDecisionIn,
        ("principal",),
    ),
    Route(
        "GET",
        "/schools/{school_id}/sync/incoming",
        "Sealed records of students transferred here, from the province",
        None,
        ("principal", "staff", "inspector"),
    ),
    Route(
        "GET",
        "/schools/{school_id}/sync/incoming/{record_id}/{kind}",
        "An earlier school's sealed record of a student transferred here (`kind`: pdf or xml)",
        None,
        ("principal", "staff", "inspector"),
    ),
]
