"""Signing tables: each year record's signing, its steps, the half-done (deferred) signatures, signers' certificates."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.runtime.db import new_metadata
from services.runtime.documents import documents_table
from services.runtime.tables import runtime_tables

metadata = new_metadata()
outbox, inbox = runtime_tables(metadata)
documents = documents_table(metadata)

records = Table(
    "signing_records",
    metadata,
    Column("year_record_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=False, index=True),
    Column("class_id", String(64), nullable=False, index=True),
    Column("student_id", String(64), nullable=False),
    Column("transcript_id", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("supersedes", String(64), nullable=True),
    Column("lookup_code", String(32), nullable=False),
    Column("status", String(16), nullable=False, comment="collecting | sealing | sealed | cancelled"),
    Column(
        "next_order", Integer, nullable=False, comment="The step whose turn it is (plan length + 1 when done)"
    ),
    Column(
        "pdf", LargeBinary, nullable=False, comment="The PDF as signed so far (fields added before step 1)"
    ),
    Column("xml_package", LargeBinary, nullable=False, comment="The XML package as signed so far"),
    Column("record_xml_sha256", String(64), nullable=False, comment="The year record XML as assembled"),
    Column("pdf_sha256", String(64), nullable=True, comment="Sealed PDF"),
    Column("xml_sha256", String(64), nullable=True, comment="Sealed XML package"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sealed_at", DateTime(timezone=True), nullable=True),
    Column(
        "seal_attempts",
        Integer,
        nullable=False,
        server_default=text("0"),
        comment="Seal tries that failed; the timer postpones a failing record further each time",
    ),
    Column("seal_error", Text, nullable=True, comment="Why the last seal try failed (no personal data)"),
    Column(
        "reporting_path",
        String(16),
        nullable=False,
        server_default=text("'regular'"),
        comment="regular (30 June) or supplementary (15 August), as assembled; announced with the seal",
    ),
    # The seal timer scans only the records waiting for it.
    Index("ix_signing_records_sealing", "updated_at", postgresql_where=text("status = 'sealing'")),
)

steps = Table(
    "signing_steps",
    metadata,
    Column("year_record_id", String(64), primary_key=True),
    Column("step_order", Integer, primary_key=True),
    Column("role", String(20), nullable=False),
    Column("field_name", String(40), nullable=False),
    Column("signer_id", String(64), nullable=False, index=True),
    Column("signer_name", String(200), nullable=False),
    Column("covers", JSONB, nullable=False),
    Column("on_behalf_of", String(200), nullable=True),
    Column("signed_at", DateTime(timezone=True), nullable=True),
    Column("certificate_sha256", String(64), nullable=True),
    ForeignKeyConstraint(["year_record_id"], ["signing_records.year_record_id"], ondelete="CASCADE"),
)

pending = Table(
    "pending_signatures",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("batch_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("year_record_id", String(64), nullable=False),
    Column("step_order", Integer, nullable=False),
    Column("signer_id", String(64), nullable=False),
    Column("certificate", LargeBinary, nullable=False, comment="DER; the one the signed attributes name"),
    Column("prepared_pdf", LargeBinary, nullable=False),
    Column("document_digest", LargeBinary, nullable=False),
    Column("region_start", Integer, nullable=False),
    Column("region_end", Integer, nullable=False),
    Column("signed_attributes", LargeBinary, nullable=False),
    Column("xml_package", LargeBinary, nullable=False),
    Column("xml_signature_id", String(100), nullable=False),
    Column("xml_signed_info", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ForeignKeyConstraint(
        ["year_record_id", "step_order"],
        ["signing_steps.year_record_id", "signing_steps.step_order"],
        ondelete="CASCADE",
    ),
)

certificates = Table(
    "signer_certificates",
    metadata,
    Column("signer_id", String(64), primary_key=True),
    Column("school_id", String(64), nullable=True, index=True),
    Column("certificate", LargeBinary, nullable=False, comment="DER"),
    Column("chain", JSONB, nullable=False, comment="Intermediate certificates, base64 DER"),
    Column("subject", Text, nullable=False),
    Column("not_after", DateTime(timezone=True), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
