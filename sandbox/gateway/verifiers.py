"""Verifiers the gateway can be started with: ``verify_pdf(pdf, xml) -> (ok, reasons[, signatures])``.

The real one (pyHanko + policy) lives in ``services/signing/verifier`` and is wired with ``--verifier``. These are
the stand-ins the sandbox ships next to it, as pyHanko ships its test signers. A verifier may add a third value,
one plain dict per signature (``order``, ``role``, ``signer``, ``on_behalf_of``, ``time``, ``intact``, ``valid``,
``trusted``, ``indication``): the portal shows it as the signatures' verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.gateway import documents
from sandbox.gateway.domain import errors

Verifier = Callable[[bytes, bytes], tuple[bool, list[str]] | tuple[bool, list[str], list[dict[str, Any]]]]
# What the public page may say about a signature. Anything else a verifier reports (the certificate's
# serialNumber, which on Vietnamese certificates is the holder's personal ID) is dropped here.
SHOWN = ("order", "role", "signer", "on_behalf_of", "time", "intact", "valid", "trusted", "indication")


@dataclass(frozen=True)
class Verification:
    ok: bool
    reasons: list[str]
    signatures: list[dict[str, Any]] = field(default_factory=list)
    detailed: bool = False  # False: the verifier says nothing about individual signatures


def run(verifier: Verifier, pdf: bytes, xml: bytes) -> Verification:
    result = verifier(pdf, xml)
    if len(result) == 2:
        return Verification(result[0], list(result[1]))
    ok, reasons, signatures = result  # type: ignore[misc]
    kept = [{k: s.get(k) for k in SHOWN} for s in signatures]
    return Verification(ok, list(reasons), kept, detailed=True)


def embedded_xml_only(pdf: bytes, xml: bytes) -> tuple[bool, list[str]]:
    """Checks what can be checked without signatures: the PDF opens and carries exactly this XML."""
    try:
        documents.check_embedded_xml(pdf, xml)
    except errors.GatewayError as error:
        return False, [error.reason]
    return True, []


def refuse_all(pdf: bytes, xml: bytes) -> tuple[bool, list[str]]:
    """Refuses everything, as a verifier does when the seal is missing: tests the ``signature_invalid`` path."""
    return False, ["seal_missing: no school seal signature (test verifier refuses every PDF)"]


def load(spec: str) -> Verifier:
    """``module:function`` → the callable (how the real verifier is plugged in without importing it here)."""
    import importlib

    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"verifier {spec!r} must look like package.module:function")
    verifier: Verifier = getattr(importlib.import_module(module), name)
    return verifier
