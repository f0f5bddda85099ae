"""Request models of the signing service's HTTP API."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.runtime.auth import RECORD_READERS, SCHOOL_STAFF, SIGNERS
from services.runtime.openapi import Route


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _decode_base64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("không phải base64 hợp lệ") from exc


def _certificate_bytes(value: str) -> bytes:
    """PEM text or base64 DER: what a token's middleware or a remote signing service hands out."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
        return _decode_base64(body)
    return _decode_base64(text)


class RecordStep(Strict):
    year_record_id: str = Field(min_length=1, max_length=64)
    order: int = Field(ge=1, le=40)


class PrepareBatchIn(Strict):
    """Either name the records or a class (every record of the class waiting for me)."""

    records: list[RecordStep] | None = Field(None, max_length=500)
    class_id: str | None = Field(None, max_length=64)
    certificate: str | None = Field(None, description="Signer's certificate, PEM or base64 DER")
    chain: list[str] = Field(default_factory=list, max_length=5, description="Intermediate CA certificates")

    # Decoded here, not first in the handler: a certificate that is not PEM or base64 is the caller's 422.
    @field_validator("certificate")
    @classmethod
    def _certificate_decodes(cls, value: str | None) -> str | None:
        if value:
            _certificate_bytes(value)
        return value

    @field_validator("chain")
    @classmethod
    def _chain_decodes(cls, value: list[str]) -> list[str]:
        for certificate in value:
            _certificate_bytes(certificate)
        return value

    def certificate_der(self) -> bytes | None:
        return _certificate_bytes(self.certificate) if self.certificate else None

    def chain_der(self) -> list[bytes]:
        return [_certificate_bytes(c) for c in self.chain]


class SignatureIn(Strict):
    item_id: str = Field(min_length=1, max_length=64)
    pdf_signature: str = Field(min_length=1, max_length=2048, description="base64 signature over pdf_to_sign")
    xml_signature: str = Field(min_length=1, max_length=2048, description="base64 signature over xml_to_sign")

    @field_validator("pdf_signature", "xml_signature")
    @classmethod
    def _is_base64(cls, value: str) -> str:
        _decode_base64(value)
        return value


class FinishBatchIn(Strict):
    signatures: list[SignatureIn] = Field(min_length=1, max_length=500)


# The routes for users (the OpenAPI document is generated from them). GET /documents/{sha256} is not among them:
# it takes only another service's token (scope documents:read), never a user's.
ROUTES = [
    Route(
        "GET",
        "/signing/pending",
        "My signature steps whose turn it is (?class_id=)",
        None,
        SIGNERS,
    ),
    Route(
        "POST",
        "/signing/batches",
        "Prepare a batch of my steps: the hashes my signing device signs",
        PrepareBatchIn,
        SIGNERS,
    ),
    Route(
        "POST",
        "/signing/batches/{batch_id}/signatures",
        "Send back the device's signatures for a prepared batch",
        FinishBatchIn,
        SIGNERS,
    ),
    Route(
        "GET",
        "/schools/{school_id}/signing/status",
        "Per class: who holds signing up, certificates, the projected finish before the cutoff",
        None,
        SCHOOL_STAFF,
    ),
    Route(
        "GET",
        "/records/{record_id}/{kind}",
        "A year record as signed so far, sealed once sealed (`kind`: pdf or xml)",
        None,
        RECORD_READERS,
        description="A teacher (subject or homeroom) downloads only the records whose signature plan names them.",
    ),
]
