"""Trust anchors: from configuration (``HOCBA_TRUST_ROOTS``, a PEM file), the sandbox roots only in dev and test."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from services.runtime.settings import TEST_PKI, get_settings

# The repository's test PKI (the default in dev and test only); the wheel ships no sandbox data.
SANDBOX_ROOTS = Path(TEST_PKI["trust_roots"])


class NoTrustRoots(Exception):
    """Neither HOCBA_TRUST_ROOTS nor the sandbox roots are available: refusing to guess (no OS trust store)."""


def parse_roots(data: bytes) -> list[asn1_x509.Certificate]:
    """Certificates from PEM (any number of blocks) or a single DER certificate."""
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"]  # fmt: skip
    return [asn1_x509.Certificate.load(data)]


def load_roots(paths: Iterable[str | Path]) -> list[asn1_x509.Certificate]:
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        roots.extend(parse_roots(Path(path).read_bytes()))
    return roots


def configured_roots(extra: Iterable[str | Path] = ()) -> list[asn1_x509.Certificate]:
    """``HOCBA_TRUST_ROOTS`` (or, in dev and test, the sandbox roots when present) plus ``extra`` files."""
    configured = (
        get_settings().trust_roots
    )  # in dev and test the sandbox roots when none is set; none in production
    sandbox_missing = configured == TEST_PKI["trust_roots"] and not Path(configured).is_file()
    base = [configured] if configured and not sandbox_missing else []
    paths = [*base, *extra]
    if not paths:
        raise NoTrustRoots(
            "no trust roots: set HOCBA_TRUST_ROOTS to a PEM file of the trusted root certificates"
        )
    return load_roots(paths)
