"""Request models of the sync service's HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
