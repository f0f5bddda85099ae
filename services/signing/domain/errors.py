"""What the signing service refuses, and why, in words a teacher or principal understands."""

from __future__ import annotations


class SigningError(Exception):
    """Base: ``detail`` is shown to the user (Vietnamese); ``status`` is the HTTP status at the edge."""

    status = 409
    type = "signing-error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotYourTurn(SigningError):
    type = "not-your-turn"


class WrongSigner(SigningError):
    status = 403
    type = "wrong-signer"


class SupersededVersion(SigningError):
    type = "superseded-version"


class SigningCancelled(SigningError):
    type = "signing-cancelled"


class AlreadySigned(SigningError):
    type = "already-signed"


class UnknownRecord(SigningError):
    status = 404
    type = "unknown-record"


class CertificateRefused(SigningError):
    status = 422
    type = "certificate-refused"


class SignatureMismatch(SigningError):
    """The value sent back does not verify with the signer's certificate over the data we asked them to sign."""

    status = 422
    type = "signature-mismatch"


class NoPendingSignature(SigningError):
    status = 404
    type = "no-pending-signature"


class SealUnavailable(SigningError):
    """The HSM (or its key for this school) cannot be reached: transient, the seal is retried."""

    status = 503
    type = "seal-unavailable"
