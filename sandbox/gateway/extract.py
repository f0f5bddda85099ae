"""A family's extract (trích lục): the chosen years' sealed PDF and signed XML as reported, and a manifest the province
signs, in the form the project's verifier reads (services/signing/verifier/extract.py). The province's key and
certificates come from one PEM file (GATEWAY_EXTRACT_SIGNER; `make setup` writes the test province's)."""

from __future__ import annotations

import base64
import functools
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

FORMAT = "hocba-extract/1"
ISSUER = "Sở Giáo dục và Đào tạo (cổng tra cứu học bạ)"


@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey
    certificates: tuple[bytes, ...]  # DER: the signer's, then its chain


@functools.cache
def _signer(path: str, mtime: float) -> Signer:
    pem = Path(path).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: the extract signer's key is not an EC key (ES256)")
    certificates = tuple(
        c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(pem)
    )
    return Signer(key, certificates)


def signer(path: str) -> Signer | None:
    """The province's extract signer, or None when this gateway has none configured."""
    file = Path(path)
    return _signer(str(file), file.stat().st_mtime) if file.is_file() else None


def _signed(body: dict[str, Any], by: Signer) -> bytes:
    payload = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    r, s = utils.decode_dss_signature(by.key.sign(payload, ec.ECDSA(hashes.SHA256())))
    document = {
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode(),
        "certificate": base64.b64encode(by.certificates[0]).decode(),
        "chain": [base64.b64encode(c).decode() for c in by.certificates[1:]],
    }
    return json.dumps(document, indent=1).encode()


def build(records: list[tuple[dict[str, Any], str, bytes, bytes]], by: Signer, issued: datetime) -> bytes:
    """The ZIP of (record row, public status, PDF, XML) per chosen year, with the signed manifest."""
    out = io.BytesIO()
    listed = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for row, status, pdf, xml in records:
            stem = f"hocba-{row['school_year']}-v{row['version']}"
            archive.writestr(f"{stem}.pdf", pdf)
            archive.writestr(f"{stem}.xml", xml)
            listed.append(
                {
                    "school_year": row["school_year"],
                    "version": row["version"],
                    "status": status,
                    "pdf": {"name": f"{stem}.pdf", "sha256": row["pdf_sha256"]},
                    "xml": {"name": f"{stem}.xml", "sha256": row["xml_sha256"]},
                }
            )
        body = {
            "format": FORMAT,
            "issuer": ISSUER,
            "issued": issued.isoformat(timespec="seconds"),
            "records": listed,
        }
        archive.writestr("manifest.json", _signed(body, by))
    return out.getvalue()
