"""What the signing service refuses, and why, in words a teacher or principal understands.

Every signing error derives from ``SigningError``, so the service maps one base to problem+json at its edge.
"""

from __future__ import annotations

from typing import ClassVar


class SigningError(Exception):
    """Base: ``detail_vi`` is shown to the user; ``http_status`` and ``slug`` make the problem+json at the edge.

    ``transient`` marks each subclass: False (the default) is permanent — the same request or event gets the same
    answer, so a consumer dead-letters it at once; True means a retry may succeed.
    """

    http_status = 409
    slug = "signing-error"
    title = "Signing refused"
    transient: ClassVar[bool] = False

    def __init__(self, detail_vi: str, *, log: str | None = None) -> None:
        super().__init__(log or detail_vi)
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


class PlanMismatch(SigningError):
    """An assembled record's announced signature plan is not the one its XML carries: refused, nothing registered.

    Permanent: a redelivery carries the same plan and the same XML.
    """

    http_status = 422
    slug = "plan-mismatch"


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
    transient = True


class SealUnavailable(SigningError):
    """The HSM (or its key for this school) cannot be reached: transient, the seal is retried."""

    http_status = 503
    slug = "seal-unavailable"
    transient = True
