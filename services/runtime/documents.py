"""A content-addressed document store (PDF, XML by sha256) in a service's own database."""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session


def documents_table(metadata: MetaData) -> Table:
    return Table(
        "documents",
        metadata,
        Column("sha256", String(64), primary_key=True),
        Column("media_type", String(64), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("content", LargeBinary, nullable=False),
    )


class DocumentStore(Protocol):
    """Where PDFs and XML live, by sha256. Postgres here; an S3-compatible store can implement the same."""

    def put(self, content: bytes, media_type: str) -> str: ...

    def get(self, sha256: str) -> tuple[bytes, str] | None: ...


class PostgresDocuments:
    def __init__(self, session: Session, table: Table) -> None:
        self.session = session
        self.table = table

    def put(self, content: bytes, media_type: str) -> str:
        digest = hashlib.sha256(content).hexdigest()
        self.session.execute(
            pg_insert(self.table)
            .values(sha256=digest, media_type=media_type, size=len(content), content=content)
            .on_conflict_do_nothing()
        )
        return digest

    def get(self, sha256: str) -> tuple[bytes, str] | None:
        row = self.session.execute(
            select(self.table.c.content, self.table.c.media_type).where(self.table.c.sha256 == sha256)
        ).first()
        return (bytes(row.content), row.media_type) if row else None
