"""Trust anchors from configuration (HOCBA_TRUST_ROOTS, HOCBA_CA_CHAIN): no default outside dev and test."""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509

from services.runtime.settings import Settings
from services.runtime.timestamps import load_certificates


class TrustAnchorsMissing(RuntimeError):
    """A process that checks signatures or timestamps was started without the certificates it must trust."""


_WHERE = "in Kubernetes the ConfigMap hocba-trust mounted at /etc/hocba/pki; see docs/operators.md"


def _load(variable: str, path: str | None, what: str) -> list[asn1_x509.Certificate]:
    if not path:
        raise TrustAnchorsMissing(f"no {what} configured: set {variable} to a PEM file ({_WHERE})")
    try:
        certificates = load_certificates(path)
    except FileNotFoundError:
        raise TrustAnchorsMissing(f"{variable}={path}: no such file ({_WHERE})") from None
    except (OSError, ValueError) as exc:
        raise TrustAnchorsMissing(f"{variable}={path}: unreadable ({type(exc).__name__})") from None
    if not certificates:
        raise TrustAnchorsMissing(f"{variable}={path}: no certificate in it")
    return certificates


def trust_roots(settings: Settings) -> list[asn1_x509.Certificate]:
    """The root certificates signatures and timestamps must chain to."""
    return _load("HOCBA_TRUST_ROOTS", settings.trust_roots, "trust anchors")


def ca_chain(settings: Settings) -> list[asn1_x509.Certificate]:
    """The issuing CA certificates embedded beside the school seal."""
    return _load("HOCBA_CA_CHAIN", settings.ca_chain, "seal CA chain")
