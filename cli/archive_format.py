"""The year-end archive's format, without I/O: file names, rows as JSON Lines, the manifest and its check.

An archive is a tar of ``manifest.json`` (+ ``manifest.sig``, the platform's Ed25519 signature over it, and
``manifest.tsr``, an RFC 3161 token over the signature's sha256), one JSON Lines
file per table under ``tables/<service>/``, the sealed documents under ``documents/``, large binary values once
each under ``blobs/<sha256>`` (unless a document already holds them) and the sealed audit export under ``audit/``.
The tar is stored encrypted (``cli/archive_crypto.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, LargeBinary, Table, Uuid

FORMAT = "hocba-year-archive/1"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.sig"
MANIFEST_TOKEN = "manifest.tsr"
INLINE_BYTES = 2048  # smaller binary values (encrypted ids, certificates) stay in the row as base64


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def default_name(school_id: str, school_year: str) -> str:
    return f"hocba-{_safe(school_id)}-{school_year}.tar"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", part)


def document_names(student_id: str, school_year: str, version: int) -> tuple[str, str]:
    """Where a sealed year record's PDF and signed XML go: the first version plain, amendments suffixed."""
    stem = f"documents/{_safe(student_id)}-{school_year}" + (f"-v{version}" if version > 1 else "")
    return f"{stem}.pdf", f"{stem}.signed.xml"


def table_file(service: str, table: str) -> str:
    return f"tables/{service}/{table}.jsonl"


def _encode(value: Any, blobs: dict[str, bytes]) -> Any:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        if len(value) < INLINE_BYTES:
            return {"$base64": base64.b64encode(value).decode()}
        digest = sha256(value)
        blobs[digest] = value
        return {"$blob": digest}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def rows_to_jsonl(rows: Iterable[Mapping[str, Any]], blobs: dict[str, bytes]) -> bytes:
    """One JSON object per row; large binary values become ``{"$blob": sha256}`` and are added to ``blobs``."""
    lines = [
        json.dumps({k: _encode(v, blobs) for k, v in row.items()}, ensure_ascii=False, sort_keys=True)
        for row in rows
    ]
    return "".join(line + "\n" for line in lines).encode()


def _decode(column_type: Any, value: Any, blob: Callable[[str], bytes]) -> Any:
    if value is None or isinstance(column_type, JSON):
        return value
    if isinstance(column_type, LargeBinary):
        return base64.b64decode(value["$base64"]) if "$base64" in value else blob(value["$blob"])
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    return value


def jsonl_to_rows(table: Table, text: bytes, blob: Callable[[str], bytes]) -> list[dict[str, Any]]:
    """The rows of one table file, with each value back in its column's Python type; unknown columns refused."""
    rows = []
    for line in text.decode().splitlines():
        item = json.loads(line)
        unknown = set(item) - set(table.c.keys())
        if unknown:
            raise ValueError(f"{table.name} has no column {sorted(unknown)[0]}")
        rows.append({k: _decode(table.c[k].type, v, blob) for k, v in item.items()})
    return rows


def build_manifest(
    school_id: str,
    school_year: str,
    created_at: datetime,
    files: Mapping[str, bytes],
    counts: Mapping[str, Mapping[str, int]],
    documents: list[dict[str, Any]],
    audit_file: str | None,
) -> bytes:
    manifest = {
        "format": FORMAT,
        "school_id": school_id,
        "school_year": school_year,
        "created_at": created_at.isoformat(),
        "rows": {service: dict(tables) for service, tables in counts.items()},
        "documents": documents,
        "audit": audit_file,
        "files": {name: {"sha256": sha256(content), "size": len(content)} for name, content in files.items()},
    }
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def parse_manifest(content: bytes) -> dict[str, Any]:
    manifest = json.loads(content)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} manifest")
    return manifest


def check_files(manifest: Mapping[str, Any], found: Mapping[str, tuple[str, int]]) -> list[str]:
    """Each problem with the archive's files (``found``: name → (sha256, size)), naming the file; [] when intact."""
    listed: Mapping[str, Mapping[str, Any]] = manifest["files"]
    problems = [f"{name} is listed in the manifest but missing" for name in sorted(set(listed) - set(found))]
    problems += [f"{name} is not listed in the manifest" for name in sorted(set(found) - set(listed))]
    for name in sorted(set(listed) & set(found)):
        digest, size = found[name]
        if size != listed[name]["size"]:
            problems.append(f"{name} has {size} bytes, the manifest says {listed[name]['size']}")
        elif digest != listed[name]["sha256"]:
            problems.append(f"{name} does not match its sha256 in the manifest (altered or corrupted)")
    return problems
