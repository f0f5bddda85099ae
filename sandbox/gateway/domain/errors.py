"""Rejections the gateway answers with: a stable machine-readable ``reason``, an HTTP status and Vietnamese detail."""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base of every refusal. ``reason`` is the contract with callers; ``detail_vi`` is for the people reading it."""

    reason = "gateway_error"
    status = 400
    title = "Request refused"

    def __init__(self, detail_vi: str, **extensions: Any) -> None:
        super().__init__(f"{self.reason}: {detail_vi}")
        self.detail_vi = detail_vi
        self.extensions = extensions


def _error(name: str, reason: str, status: int, title: str) -> type[GatewayError]:
    return type(name, (GatewayError,), {"reason": reason, "status": status, "title": title, "__doc__": title})


Unauthorized = _error("Unauthorized", "unauthorized", 401, "Missing or invalid bearer token")
IdempotencyKeyMissing = _error(
    "IdempotencyKeyMissing", "idempotency_key_missing", 400, "Idempotency-Key required"
)
IdempotencyKeyReused = _error(
    "IdempotencyKeyReused", "idempotency_key_reused", 422, "Idempotency-Key already used for another body"
)
TrustListMissing = _error("TrustListMissing", "trust_list_missing", 404, "No QR trust list published yet")
BodyInvalid = _error("BodyInvalid", "body_invalid", 422, "Request body is invalid")
XsdInvalid = _error("XsdInvalid", "xsd_invalid", 422, "XML does not validate against the XSD")
PdfInvalid = _error("PdfInvalid", "pdf_invalid", 422, "PDF unreadable")
XmlMismatch = _error("XmlMismatch", "xml_mismatch", 422, "PDF's embedded hocba.xml differs from the XML")
SignatureInvalid = _error("SignatureInvalid", "signature_invalid", 422, "PDF signatures do not verify")
WrongSchool = _error("WrongSchool", "wrong_school", 403, "Record belongs to another school")
CutoffPassed = _error("CutoffPassed", "cutoff_passed", 409, "Cutoff date has passed")
DuplicateRecord = _error("DuplicateRecord", "duplicate_record", 409, "Year record version already accepted")
ReplaceRequired = _error("ReplaceRequired", "replace_required", 409, "Year record exists; use replace")
NotCurrent = _error("NotCurrent", "not_current", 409, "Only the current version can be changed")
IdentityMismatch = _error(
    "IdentityMismatch", "identity_mismatch", 422, "Replacement is not the same year record"
)
SupplementaryNotAllowed = _error(
    "SupplementaryNotAllowed",
    "supplementary_not_allowed",
    422,
    "Supplementary path is for grades 1-4 and secondary re-tests",
)
AssessmentMismatch = _error(
    "AssessmentMismatch", "assessment_mismatch", 422, "Assessment differs from the record"
)
RecordNotFound = _error("RecordNotFound", "record_not_found", 404, "No such record for this school")
TranscriptNotFound = _error(
    "TranscriptNotFound", "transcript_not_found", 404, "No such transcript for this school"
)
SameSchool = _error("SameSchool", "same_school", 422, "Transfer to the same school")
NotFound = _error("NotFound", "not_found", 404, "No such resource")
