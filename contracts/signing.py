"""Events the signing service emits."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field

from contracts.envelope import ContractModel, EventModel
from contracts.transcript import ReportingPath


class TranscriptSealedPublic(ContractModel):
    """For vendors: which year record was sealed, by opaque ids only.

    Never the lookup code: with it anyone opens the child's record on the portal. Correlate on the ids.
    """

    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    transcript_id: str = Field(description="Opaque id of the học bạ (one per student per school level)")
    year_record_id: str = Field(description="Opaque year record id")
    school_year: str = Field(description="School year, e.g. 2025-2026")
    grade: int = Field(description="Grade 1–12")
    version: int = Field(description="Version of the year record (a new version supersedes the previous)")
    sealed_at: datetime = Field(description="When the school's seal closed the record")


class TranscriptSealedV1(EventModel):
    """Every planned signature is on the year record and the school's seal closed it: nothing may change now.

    The sealed documents are served by the signing service at ``GET /documents/{sha256}`` (service token).
    """

    EVENT_NAME: ClassVar[str] = "transcript.sealed"
    EMITTED_BY: ClassVar[tuple[str, ...]] = ("signing",)
    PUBLIC_MODEL: ClassVar[type[BaseModel] | None] = TranscriptSealedPublic

    school_id: str = Field(description="Opaque school id")
    class_id: str = Field(description="Opaque class id")
    student_id: str = Field(description="Opaque student id")
    transcript_id: str = Field(description="The học bạ the record belongs to")
    year_record_id: str = Field(description="The sealed year record")
    school_year: str = Field(description="School year, e.g. 2025-2026")
    grade: int = Field(ge=1, le=12, description="Grade of the year (cutoff rules depend on it)")
    version: int = Field(ge=1, description="Version of the year record")
    supersedes: str | None = Field(None, description="Year record id this version replaces")
    lookup_code: str = Field(
        pattern=r"^[0-9a-f]{32}$",
        description="Lookup code printed on the record (internal only: it opens the record on the portal)",
    )
    pdf_document_id: str = Field(description="Id of the sealed PDF (its sha256)")
    pdf_sha256: str = Field(description="sha256 of the sealed PDF/A-3")
    record_xml_sha256: str = Field(
        description="sha256 of the year record XML exactly as the PDF embeds it (what the province ingests)"
    )
    xml_document_id: str = Field(description="Id of the signed XML package (its sha256)")
    xml_sha256: str = Field(description="sha256 of the signed XML package")
    signatures: int = Field(ge=1, description="Signatures on the record, the seal included")
    sealed_at: datetime = Field(description="When the seal was applied")
    reporting_path: ReportingPath = Field(
        "regular", description="regular (before 30 June) or supplementary (before 15 August), as assembled"
    )

    def public_view(self) -> BaseModel:
        return TranscriptSealedPublic(
            school_id=self.school_id,
            class_id=self.class_id,
            transcript_id=self.transcript_id,
            year_record_id=self.year_record_id,
            school_year=self.school_year,
            grade=self.grade,
            version=self.version,
            sealed_at=self.sealed_at,
        )
