"""Tables of the gateway's database, created with ``metadata.create_all`` (a simulator with no schema history)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine, make_url

metadata = MetaData()

# Content-addressed: the same sealed PDF sent twice is stored once.
documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("media_type", String(40), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# One row per accepted version of a year record; status: current | replaced | withdrawn ("effective" is derived).
records = Table(
    "records",
    metadata,
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),  # keyset pagination order
    Column("id", String(36), primary_key=True),
    Column("school_id", String(100), nullable=False),
    Column("transcript_id", String(100), nullable=False),
    Column("year_record_id", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("lookup_code", String(32), nullable=False),
    Column("student_id", String(100), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("assessment", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("pdf_sha256", String(64), nullable=False),
    Column("xml_sha256", String(64), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("replaces_id", String(36)),
    Column("replace_reason", Text),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("replaced_at", DateTime(timezone=True)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdraw_reason", Text),
    # The database, not a check-then-insert, is what makes two racing submissions of one version impossible.
    UniqueConstraint("year_record_id", "version", name="uq_records_year_record_version"),
    Index("ix_records_school_year", "school_id", "school_year"),
    Index("ix_records_lookup_code", "lookup_code"),
    Index("ix_records_transcript", "transcript_id"),
    Index("ix_records_pdf", "pdf_sha256"),
)

# What the gateway's verifier found when it accepted a PDF, per signature (who, role, when, intact): the portal's
# verdict. Keyed by the PDF's sha256: the bytes cannot change, so neither can what they prove. A table of its own,
# so that create_all adds it to a gateway database made before it existed.
verifications = Table(
    "verifications",
    metadata,
    Column("pdf_sha256", String(64), primary_key=True),
    Column("passed", Boolean, nullable=False),
    Column("detailed", Boolean, nullable=False),
    Column("signatures", JSONB, nullable=False),
    Column("verified_at", DateTime(timezone=True), nullable=False),
)

# A key is spent only by a success: its response is kept and replayed for the same body.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("school_id", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("operation", String(40), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("transcript_id", String(100), nullable=False),
    Column("from_school", String(100), nullable=False),
    Column("to_school", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("transcript_id", "from_school", "to_school", name="uq_transfers_once"),
    Index("ix_transfers_to", "to_school", "transcript_id"),
)

# Every outcome of a submission or replacement: the gateway's own count, which proves exactly-once delivery.
submission_log = Table(
    "submission_log",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("school_id", String(100), nullable=False),
    Column("operation", String(20), nullable=False),
    Column("year_record_id", String(100)),
    Column("version", Integer),
    Column("outcome", String(20), nullable=False),  # accepted | replayed | rejected
    Column("reason", String(60)),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_submission_log_year_record", "year_record_id"),
)

# The portal's attempts at a signed PDF, one row per bucket an attempt counts against (the client's address or /64,
# the lookup code's digest). In the database, not in a process: every replica sees the same count and a restart
# forgets nothing. A row is deleted when its attempt succeeds or was no guess; expired rows are pruned as new ones
# come in.
portal_attempts = Table(
    "portal_attempts",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("bucket", String(80), nullable=False),
    Column("attempt", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_portal_attempts_bucket_at", "bucket", "at"),
    Index("ix_portal_attempts_attempt", "attempt"),
    Index("ix_portal_attempts_at", "at"),
)


def ensure_database(url: str) -> Engine:
    """Create the database if missing, then the tables; idempotent. Returns an engine on it."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("select 1 from pg_database where datname = :name"), {"name": target.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'create database "{target.database}"'))
    admin.dispose()
    engine = create_engine(target, pool_size=10, max_overflow=20, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


# Every time someone opened a student's học bạ here, for the family's view (the data subject may know who processed
# their data, Law 91/2025/QH15): when, what, and the organisation where the request names one (a school's API token),
# else the public portal. Keyed by the học bạ, never by its lookup code (a credential) nor the client's address
# (personal data of its own). A table of its own, so that create_all adds it to a gateway database made before it.
record_accesses = Table(
    "record_accesses",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("transcript_id", String(100), nullable=False),
    Column("what", String(20), nullable=False),  # record_page | pdf | api_pdf | api_xml | family_view
    Column("organisation", String(100), nullable=False),  # a school id, or "portal"
    Column("school_year", String(9)),
    Column("version", Integer),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_record_accesses_transcript_at", "transcript_id", "at"),
)
