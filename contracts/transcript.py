"""Events the transcript service emits."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from contracts.envelope import ContractModel, EventModel

ReportingPath = Literal["regular", "supplementary"]


class SignatureStepV1(ContractModel):
    order: int = Field(ge=1, description="Signing order, 1 first; the seal is last")
    role: Literal["subject_teacher", "homeroom_teacher", "principal", "school_seal"] = Field(
        description="Role"
    )
    field_name: str = Field(description="Name of the PDF signature field created for this step")
    signer_id: str = Field(description="Opaque id of the person (or the school, for the seal) who signs")
    covers: list[str] = Field(default_factory=list, description="Subject codes this signature vouches for")
    on_behalf_of: str | None = Field(None, description="Name of a departed teacher the principal signs for")


class TranscriptAssembledPublic(ContractModel):
    """For vendors: a year record now waits for its signatures; opaque ids only."""

    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    transcript_id: str = Field(description="Opaque id of the học bạ (one per student per school level)")
    year_record_id: str = Field(description="Opaque year record id")
    school_year: str = Field(description="School year, e.g. 2025-2026")
    version: int = Field(description="Version of the year record (a new version supersedes the previous)")
    supersedes: str | None = Field(None, description="Opaque id of the year record this version replaces")
    signatures: int = Field(description="Signatures planned, the school's seal included")


class TranscriptAssembledV1(EventModel):
    """A student's year record was assembled (XML + PDF stored) and waits for its signatures in plan order."""

    EVENT_NAME: ClassVar[str] = "transcript.assembled"
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("transcript",)
    PUBLIC_MODEL: ClassVar[type[BaseModel] | None] = TranscriptAssembledPublic

    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    student_id: str = Field(description="Opaque student id")
    transcript_id: str = Field(description="The học bạ (one per student per school level)")
    year_record_id: str = Field(description="This year record")
    school_year: str = Field(description="School year, e.g. 2025-2026")
    version: int = Field(ge=1, description="1 for the first assembly; higher after an amendment")
    supersedes: str | None = Field(
        None, description="Year record id this version replaces (its signing stops)"
    )
    xml_sha256: str = Field(description="sha256 of the XML package (content address)")
    pdf_sha256: str = Field(description="sha256 of the unsigned PDF/A-3 (content address)")
    signature_plan: list[SignatureStepV1] = Field(description="Every signature, in order")
    digitised: bool = Field(
        False, description="Entered from a paper học bạ (an earlier year), not from a lock"
    )
    reporting_path: ReportingPath = Field(
        "regular",
        description=(
            "How the province receives it: regular (before 30 June) or supplementary (before 15 August: a re-test or "
            "summer training, a grade 1-4 pupil re-assessed over the summer)"
        ),
    )

    def public_view(self) -> BaseModel:
        return TranscriptAssembledPublic(
            school_id=self.school_id,
            class_id=self.class_id,
            transcript_id=self.transcript_id,
            year_record_id=self.year_record_id,
            school_year=self.school_year,
            version=self.version,
            supersedes=self.supersedes,
            signatures=len(self.signature_plan),
        )
