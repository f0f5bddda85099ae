"""Request models of the sync service's HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.runtime.openapi import Route


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CredentialsIn(Strict):
    token: str = Field(
        min_length=8, max_length=2000, description="The school's token at the province gateway"
    )


class WithdrawIn(Strict):
    reason: str = Field(min_length=3, max_length=1000, description="Why the school withdraws the record")


class TransferIn(Strict):
    transcript_id: str = Field(min_length=1, max_length=64, description="The student's học bạ")
    to_school: str = Field(min_length=1, max_length=64, description="The receiving school's id")


STAFF = ("principal", "staff", "homeroom", "inspector")
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
        STAFF,
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
        "/schools/{school_id}/sync/transfers",
        "Hand a student's học bạ over to the school they move to",
        TransferIn,
        ("principal", "staff"),
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
