"""Events the sync service emits as year records travel to the province's transcript database."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from contracts.envelope import ContractModel, EventModel


class SyncRecordPublic(ContractModel):
    """For vendors: what the province gateway did with a year record version; opaque ids only."""

    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    transcript_id: str = Field(description="Opaque id of the học bạ (one per student per school level)")
    year_record_id: str = Field(description="Opaque year record id")
    version: int = Field(description="Version of the year record")
    status: Literal["accepted", "rejected", "withdrawn", "replaced", "effective"] = Field(
        description="accepted, rejected, withdrawn, replaced (a newer version took its place) or effective "
        "(the cutoff passed: it can no longer change)"
    )
    occurred_at: datetime = Field(description="When the platform learnt it")


class SyncRecordChangedV1(EventModel):
    """The province gateway accepted, rejected or withdrew a year record version (or it became effective)."""

    EVENT_NAME: ClassVar[str] = "sync.record.changed"
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("sync",)
    PUBLIC_MODEL: ClassVar[type[BaseModel] | None] = SyncRecordPublic

    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    transcript_id: str = Field(description="The học bạ")
    year_record_id: str = Field(description="The year record")
    version: int = Field(ge=1, description="Version of the year record")
    status: Literal["accepted", "rejected", "withdrawn", "replaced", "effective"] = Field(
        description="What happened at the gateway"
    )
    gateway_record_id: str | None = Field(
        None, description="The gateway's id of the record, when it holds one"
    )
    reason: str | None = Field(
        None, description="Machine-readable reason of a rejection (the gateway's code)"
    )
    cutoff: date = Field(
        description="Until this day the school may withdraw or replace; after it the record is effective"
    )
    occurred_at: datetime = Field(description="When sync learnt it")

    def public_view(self) -> BaseModel:
        return SyncRecordPublic(
            school_id=self.school_id,
            class_id=self.class_id,
            transcript_id=self.transcript_id,
            year_record_id=self.year_record_id,
            version=self.version,
            status=self.status,
            occurred_at=self.occurred_at,
        )


class TranscriptTransferredV1(EventModel):
    """A school handed a student's học bạ over to another school at the province (chuyển quản lý học bạ).

    Platform-internal (no public view): the receiving school's transcript service links its next year record to
    the last sealed record of the earlier school; the gradebook hands over a term the student studied at the
    sending school during the year (chuyển trường giữa năm học).
    """

    EVENT_NAME: ClassVar[str] = "sync.transcript.transferred"
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("sync",)

    transcript_id: str = Field(description="The học bạ at the sending school")
    from_school: str = Field(description="Sending school")
    to_school: str = Field(description="Receiving school")
    transferred_at: datetime = Field(description="When the province recorded the transfer")
    student_id: str | None = Field(
        None,
        description="The student's opaque id at the sending school, so that the sending school's gradebook hands "
        "over a term the student studied there during the year (a locked term I of the open year); absent from "
        "producers that predate it",
    )
