"""A family's extract (trích lục) from the province's portal: the chosen years' sealed records, and a manifest the
province signs.

The ZIP holds, per year, the sealed PDF and the signed XML package exactly as the school reported them (each keeps its
own signatures: the teachers', the principal's and the school's seal), and ``manifest.json``: a province-signed
document in the trust list's form (`qr.py` ``signed_payload``), its signer certified with EXTRACT_OID, listing each
file with its sha256, the year, version and the record's status at the portal when the extract was made. The
manifest carries no lookup code and no personal data: the files do, for the family who asked with the birth date.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509

from services.signing.documents.qr_seal import EXTRACT_OID
from services.signing.verifier.qr import SignedDocumentInvalid, signed_payload

FORMAT = "hocba-extract/1"
MANIFEST = "manifest.json"


class ExtractInvalid(Exception):
    """The extract cannot be trusted as a whole: its manifest's signature, or a file it lists."""


@dataclass(frozen=True)
class ExtractRecord:
    school_year: str
    version: int
    status: str
    pdf: bytes
    xml: bytes


@dataclass(frozen=True)
class Extract:
    issuer: str
    issued: str
    records: tuple[ExtractRecord, ...]


def verify(data: bytes, roots: Sequence[asn1_x509.Certificate], *, now: datetime | None = None) -> Extract:
    """The records of an extract whose manifest the province signed and whose files are the ones it lists."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = archive.read(MANIFEST)
    except (zipfile.BadZipFile, KeyError) as error:
        raise ExtractInvalid(f"not an extract ({error})") from error
    try:
        payload, _ = signed_payload(manifest, roots, EXTRACT_OID, "extract's manifest", now=now)
    except SignedDocumentInvalid as error:
        raise ExtractInvalid(str(error)) from None
    body = json.loads(payload)
    if body.get("format") != FORMAT:
        raise ExtractInvalid(f"unknown extract format {body.get('format')!r}")
    listed = {name for entry in body["records"] for name in (entry["pdf"]["name"], entry["xml"]["name"])}
    unlisted = sorted(set(archive.namelist()) - listed - {MANIFEST})
    if unlisted:
        raise ExtractInvalid(f"files the manifest does not list: {', '.join(unlisted)}")
    records = []
    for entry in body["records"]:
        files = {}
        for kind in ("pdf", "xml"):
            name, digest = entry[kind]["name"], entry[kind]["sha256"]
            try:
                content = archive.read(name)
            except KeyError:
                raise ExtractInvalid(f"{name} is listed but missing") from None
            if hashlib.sha256(content).hexdigest() != digest:
                raise ExtractInvalid(f"{name} is not the file the province listed (sha256 differs)")
            files[kind] = content
        records.append(
            ExtractRecord(
                entry["school_year"], int(entry["version"]), entry["status"], files["pdf"], files["xml"]
            )
        )
    return Extract(body["issuer"], body["issued"], tuple(records))
