"""Verify a signed học bạ: pyHanko's validation of every signature plus our policy (plan, order, roles, seal last,
nothing but timestamps after it, embedded XML = signed XML = printed page, and the standalone XAdES package).

    report = verify(pdf_bytes, xml_bytes, trust_roots=roots)
    report.passed, report.indication, report.sub_indication, report.reasons, report.to_json()
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from asn1crypto import x509 as asn1_x509

from services.runtime.timestamps import run
from services.signing.verifier import pdf_checks, policy, report, xml_checks
from services.signing.verifier.limits import DEFAULT_BUDGET, Budget, TooLarge, over_budget
from services.signing.verifier.model import Unreadable
from services.signing.verifier.record import parse_record
from services.signing.verifier.report import Report
from services.signing.verifier.trust import configured_roots

__all__ = ["Budget", "Report", "TooLarge", "Unreadable", "async_verify", "configured_roots", "verify"]


def _version() -> str:
    try:
        hocba = metadata.version("hocba")
    except metadata.PackageNotFoundError:
        hocba = "dev"
    return f"{hocba} (pyHanko {metadata.version('pyHanko')})"


async def async_verify(
    pdf: bytes,
    xml: bytes | None = None,
    *,
    trust_roots: Sequence[asn1_x509.Certificate] | None = None,
    online: bool = False,
    complete: bool = True,
    budget: Budget = DEFAULT_BUDGET,
) -> Report:
    """For callers inside an event loop (pyHanko's sync wrappers call ``asyncio.run`` and fail there)."""
    started = time.perf_counter()
    moment = datetime.now(UTC)
    roots = configured_roots() if trust_roots is None else list(trust_roots)
    reader = pdf_checks.open_pdf(pdf, budget)
    try:
        vc, revinfo = pdf_checks.validation_context(reader, roots, online)
        facts = await pdf_checks.read_pdf(reader, pdf, vc, revinfo)
    except Unreadable:
        raise
    except Exception as error:  # a limit hit where no reader of ours looked for it (the DSS, say)
        if refusal := over_budget(error, budget):
            raise refusal from None
        raise
    record = parse_record(facts.embedded_xml)
    package = await xml_checks.read_package(xml, vc) if xml is not None else None
    judged = policy.judge(record, facts, package, complete=complete)
    return report.build(
        record,
        facts,
        package,
        judged,
        validation_time=moment,
        duration_ms=(time.perf_counter() - started) * 1000,
        version=_version(),
    )


def verify(
    pdf: bytes,
    xml: bytes | None = None,
    *,
    trust_roots: Sequence[asn1_x509.Certificate] | None = None,
    online: bool = False,
    complete: bool = True,
    budget: Budget = DEFAULT_BUDGET,
) -> Report:
    """Verify ``pdf`` (and the standalone signed ``xml`` package, if given).

    ``trust_roots`` default to the configured ones (HOCBA_TRUST_ROOTS, the sandbox roots in development).
    ``online`` lets certvalidator fetch CRLs/OCSP; by default only what the document's DSS carries is used.
    ``complete=False`` accepts a document still being signed (the steps so far, in order; no seal yet).
    ``budget`` bounds the bytes decompressed (every stream of every revision, and the page text).
    Raises :class:`Unreadable` when the input cannot be examined at all, :class:`TooLarge` (one) when it
    decodes to more than ``budget``.
    """
    return run(
        async_verify(pdf, xml, trust_roots=trust_roots, online=online, complete=complete, budget=budget)
    )


def check(pdf: bytes, xml: bytes | None = None) -> tuple[bool, list[str], list[dict[str, Any]]]:
    """The verifier as the province gateway plugs it in with ``--verifier``: the verdict, its reasons, and per
    signature what a public page may show (who, in which role, when, intact; no certificate serial number).

    ``xml`` is the year record as submitted; whether it equals the PDF's embedded XML is the embedded-XML check
    of the report itself, so only the PDF is passed on.
    """
    try:
        report = verify(pdf)
    except Unreadable as error:
        return False, [f"unreadable: {error}"], []
    signatures = [
        {
            "order": s.order,
            "role": s.role,
            "signer": s.signer,
            "on_behalf_of": s.on_behalf_of,
            "time": s.time,
            "intact": s.intact,
            "valid": s.valid,
            "trusted": s.trusted,
            "indication": s.indication,
        }
        for s in report.signatures
    ]
    return (
        report.passed,
        [f"{report.sub_indication or report.indication}: {r}" for r in report.reasons],
        signatures,
    )
