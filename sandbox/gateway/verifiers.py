"""Verifiers the gateway can be started with: ``verify_pdf(pdf, xml) -> (ok, reasons)``.

The real one (pyHanko + policy) lives in ``services/signing/verifier`` and is wired with ``--verifier``. These are
the stand-ins the sandbox ships next to it, as pyHanko ships its test signers.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.gateway import documents
from sandbox.gateway.domain import errors

Verifier = Callable[[bytes, bytes], tuple[bool, list[str]]]


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
