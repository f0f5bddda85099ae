"""A content-addressed document store (PDF, XML by sha256) in a service's own database."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from services.runtime import http_client


def documents_table(metadata: MetaData) -> Table:
    return Table(
        "documents",
        metadata,
        Column("sha256", String(64), primary_key=True),
        Column("media_type", String(64), nullable=False),
        Column("size", BigInteger, nullable=False),
        Column("content", LargeBinary, nullable=False),
    )


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


class DocumentUnavailable(Exception):
    """The other service did not give us the document (down, or not found): retried, then the caller decides."""


class DocumentCorrupted(Exception):
    """The bytes we got do not have the sha256 we asked for."""


class RemoteDocuments:
    """Another of our services' documents by content address (``GET /documents/{sha256}``), with a service token
    (scope ``documents:read``) this service obtains from the identity provider as OAuth2 client ``caller``."""

    def __init__(self, base_url: str, settings: Any, caller: str) -> None:
        from services.runtime.auth import DOCUMENTS_READ, ServiceTokens

        self._tokens = ServiceTokens(settings, caller, DOCUMENTS_READ)
        self._client = http_client.client(base_url=base_url, timeout=10.0)

    def _token(self) -> str:
        try:
            return self._tokens.token()
        except httpx.HTTPError as exc:
            raise DocumentUnavailable(f"no service token: {exc}") from exc

    @retry(
        retry=retry_if_exception_type(DocumentUnavailable),
        stop=stop_after_attempt(5),
        wait=wait_random_exponential(multiplier=0.2, max=5),
        reraise=True,
    )
    def get(self, sha256: str) -> bytes:
        try:
            response = self._client.get(
                f"/documents/{sha256}", headers={"Authorization": f"Bearer {self._token()}"}
            )
        except httpx.HTTPError as exc:
            raise DocumentUnavailable(f"document service unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise DocumentUnavailable(f"document service answered {response.status_code} for {sha256}")
        if hashlib.sha256(response.content).hexdigest() != sha256:
            raise DocumentCorrupted(f"document {sha256} does not match its sha256")
        return response.content


class FakeDocuments:
    """Another service's documents in memory, for tests: :class:`RemoteDocuments`' ``get`` over a dict of sha256 to
    bytes. A document it does not hold is unavailable, as it is when the other service answers 404."""

    def __init__(self, *contents: bytes) -> None:
        self.by_sha256: dict[str, bytes] = {}
        self.asked: list[str] = []  # every sha256 asked for, in order
        for content in contents:
            self.put(content)

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        self.by_sha256[digest] = content
        return digest

    def get(self, sha256: str) -> bytes:
        self.asked.append(sha256)
        if sha256 not in self.by_sha256:
            raise DocumentUnavailable(f"document service answered 404 for {sha256}")
        return self.by_sha256[sha256]
