"""What the signing service refuses, and why, in words a teacher or principal understands."""

from __future__ import annotations


class SigningError(Exception):
    """Base: ``detail_vi`` is shown to the user; ``http_status`` and ``slug`` make the problem+json at the edge."""

    http_status = 409
    slug = "signing-error"
    title = "Signing refused"

    def __init__(self, detail_vi: str) -> None:
        super().__init__(detail_vi)
        self.detail_vi = detail_vi


class NotYourTurn(SigningError):
    slug = "not-your-turn"


class WrongSigner(SigningError):
    http_status = 403
    slug = "wrong-signer"


class SupersededVersion(SigningError):
    slug = "superseded-version"


class SigningCancelled(SigningError):
    slug = "signing-cancelled"


class AlreadySigned(SigningError):
    slug = "already-signed"


class UnknownRecord(SigningError):
    http_status = 404
    slug = "unknown-record"


class CertificateRefused(SigningError):
    http_status = 422
    slug = "certificate-refused"


class SignatureMismatch(SigningError):
    """The value sent back does not verify with the signer's certificate over the data we asked them to sign."""

    http_status = 422
    slug = "signature-mismatch"


class NoPendingSignature(SigningError):
    http_status = 404
    slug = "no-pending-signature"


class TimestampUnavailable(SigningError):
    """The timestamp authority did not answer: transient; the prepared signature is kept and can be sent again."""

    http_status = 503
    slug = "timestamp-unavailable"


class SealUnavailable(SigningError):
    """The HSM (or its key for this school) cannot be reached: transient, the seal is retried."""

    http_status = 503
    slug = "seal-unavailable"
