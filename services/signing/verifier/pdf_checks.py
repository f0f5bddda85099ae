"""Read a transcript PDF with pyHanko: validate every signature and document timestamp, find the embedded XML.

Facts only; the judging is :mod:`.policy`'s. Revocation data comes from the document's own DSS (what the seal
embedded), so the default is fully offline; fetching (CRL/OCSP over HTTP) is opt-in.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from typing import Any

import pypdf
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from services.runtime import pdf_reading
from services.signing.verifier.limits import DEFAULT_BUDGET, Budget, BudgetedReader, over_budget, pypdf_caps
from services.signing.verifier.model import DocumentTimestamp, PdfFacts, PdfSignature, Signer, Unreadable

ATTACHMENT = "hocba.xml"

pdf_reading.install()  # each signature's /Contents read in one pass, not byte by byte


def signer_of(cert: asn1_x509.Certificate | None) -> Signer:
    if cert is None:
        return Signer(None, None, None)
    subject = cert.subject.native
    return Signer(
        subject.get("common_name"),
        subject.get("organization_name"),
        subject.get("serial_number"),
        cert.issuer.native.get("common_name"),
    )


def _filespecs_in_name_tree(node: generic.DictionaryObject, depth: int = 0) -> Iterator[Any]:
    if depth > 16:  # a loop in a hostile name tree must not hang us
        return
    names = node.get("/Names")
    if names is not None:
        for value in list(names)[1::2]:
            yield value.get_object()
    for kid in node.get("/Kids", ()):
        yield from _filespecs_in_name_tree(kid.get_object(), depth + 1)


def attachments(root: generic.DictionaryObject) -> list[bytes]:
    """Every distinct ``hocba.xml`` the catalog reaches, associated file (/AF) first, then the /Names tree.

    Both are read because a viewer may show either; two different copies are a finding, not a choice for us.
    """
    specs: list[Any] = [ref.get_object() for ref in root.get("/AF", ())]
    names = root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names:
        specs.extend(_filespecs_in_name_tree(names["/EmbeddedFiles"]))
    found: list[bytes] = []
    for spec in specs:
        if not isinstance(spec, generic.DictionaryObject):
            continue
        if str(spec.get("/UF", spec.get("/F", ""))) != ATTACHMENT or "/EF" not in spec:
            continue
        data = spec["/EF"]["/F"].data
        if data not in found:
            found.append(data)
    return found


def _roles(status: Any) -> tuple[str, ...]:
    attrs = getattr(status, "cades_signer_attrs", None)
    roles: list[str] = []
    for info in getattr(attrs, "claimed_attrs", None) or ():
        if info.attr_type.native != "role":
            continue
        for value in info.attr_values:
            name = value["role_name"]
            if name.name == "uniform_resource_identifier":
                roles.append(name.native)
    return tuple(roles)


def validation_context(reader: PdfFileReader, roots: Sequence[asn1_x509.Certificate], online: bool):  # type: ignore[no-untyped-def]
    # soft-fail: a certificate without reachable revocation data is not failed for that alone (offline, and
    # before the seal embeds the CRLs); one the CRL lists as revoked still is.
    kwargs: dict[str, Any] = {
        "trust_roots": list(roots),
        "allow_fetching": online,
        "revocation_mode": "soft-fail",
    }
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return ValidationContext(**kwargs), False
    has_revinfo = bool(list(dss.crls) or list(dss.ocsps))
    return dss.as_validation_context(kwargs), has_revinfo


def _level(timestamped: bool, revinfo: bool, archived: bool) -> str:
    if not timestamped:
        return "B-B"
    if not revinfo:
        return "B-T"
    return "B-LTA" if archived else "B-LT"


async def _signature(
    sig: EmbeddedPdfSignature, vc: ValidationContext, revinfo: bool, stamp_revisions: list[int]
) -> PdfSignature:
    field = sig.field_name or ""
    try:
        st = await async_validate_pdf_signature(sig, vc)
    except (
        Exception
    ) as error:  # a malformed CMS or dictionary: report it, do not crash the whole verification
        if refusal := over_budget(error, _budget(sig), "a signed revision"):
            raise refusal from None
        return PdfSignature(
            field, sig.signed_revision, Signer(None, None, None), (), None, False, "B-B",
            False, False, False, False, None, False, "OTHER", False, False, error=str(error) or type(error).__name__,
        )  # fmt: skip
    tst = st.timestamp_validity
    timestamped = tst is not None and tst.intact and tst.valid
    indic = st.trust_problem_indic
    return PdfSignature(
        field=field,
        revision=sig.signed_revision,
        signer=signer_of(st.signing_cert),
        claimed_roles=_roles(st),
        time=tst.timestamp if tst is not None else st.signer_reported_dt,
        timestamped=timestamped,
        level=_level(timestamped, revinfo, any(r > sig.signed_revision for r in stamp_revisions)),
        intact=st.intact,
        valid=st.valid,
        trusted=st.trusted,
        revoked=st.revoked,
        trust_problem=getattr(indic, "name", None),  # an enum member (AdESFailure / AdESIndeterminate)
        trust_problem_is_failure=isinstance(indic, AdESFailure),
        modification_level=st.modification_level.name if st.modification_level is not None else "OTHER",
        docmdp_ok=bool(st.docmdp_ok),
        bottom_line=st.bottom_line,
    )


async def _timestamp(sig: EmbeddedPdfSignature, vc: ValidationContext) -> DocumentTimestamp:
    try:
        st = await async_validate_pdf_timestamp(sig, vc)
    except Exception as error:
        if refusal := over_budget(error, _budget(sig), "a timestamped revision"):
            raise refusal from None
        return DocumentTimestamp(sig.signed_revision, None, False, False, False, "OTHER")
    level = st.modification_level.name if st.modification_level is not None else "OTHER"
    return DocumentTimestamp(sig.signed_revision, st.timestamp, st.intact, st.valid, st.trusted, level)


def _budget(sig: EmbeddedPdfSignature) -> Budget:
    reader = sig.reader
    return reader.budget if isinstance(reader, BudgetedReader) else DEFAULT_BUDGET


def page_text(pdf: bytes, budget: Budget = DEFAULT_BUDGET) -> str:
    """The text a reader sees, from the newest revision (pypdf reads what a viewer shows)."""
    try:
        with pypdf_caps(budget):
            reader = pypdf.PdfReader(io.BytesIO(pdf), strict=False)
            if len(reader.pages) > budget.pages:
                return ""
            return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as error:  # unreadable content streams: the agreement check then fails and says so
        if refusal := over_budget(error, budget, "the page text"):
            raise refusal from None
        return ""


def open_pdf(pdf: bytes, budget: Budget = DEFAULT_BUDGET) -> BudgetedReader:
    """A reader bounded by ``budget`` (decoded bytes for the whole verification, every revision included)."""
    if not pdf.lstrip()[:5] == b"%PDF-":
        raise Unreadable("not a PDF file")
    try:
        reader = BudgetedReader(io.BytesIO(pdf), budget)
        _ = reader.root
        return reader
    except Exception as error:
        if refusal := over_budget(error, budget, "the document structure"):
            raise refusal from None
        raise Unreadable(f"cannot read the PDF: {error}") from None


async def read_pdf(pdf_reader: BudgetedReader, pdf: bytes, vc: ValidationContext, revinfo: bool) -> PdfFacts:
    """``revinfo``: the DSS carries revocation data (the seal embedded it), which makes a signature B-LT."""
    reader = pdf_reader
    try:
        found = attachments(reader.root)
        embedded = reader.embedded_signatures
    except Exception as error:
        if refusal := over_budget(error, reader.budget, f"the embedded {ATTACHMENT}"):
            raise refusal from None
        raise Unreadable(f"cannot read the PDF structure: {error}") from None
    if not found:
        raise Unreadable(f"the PDF has no embedded {ATTACHMENT}")
    ordered = sorted(embedded, key=lambda s: s.signed_revision)
    stamps = [s for s in ordered if s.sig_object_type == "/DocTimeStamp"]
    stamp_revisions = [s.signed_revision for s in stamps]
    signatures = [
        await _signature(s, vc, revinfo, stamp_revisions)
        for s in ordered
        if s.sig_object_type != "/DocTimeStamp"
    ]
    timestamps = [await _timestamp(s, vc) for s in stamps]
    signed_xml: dict[int, bytes | None] = {}
    for sig in signatures:
        try:
            historical = attachments(reader.get_historical_root(sig.revision))
        except Exception as error:
            if refusal := over_budget(error, reader.budget, f"the {ATTACHMENT} of a signed revision"):
                raise refusal from None
            historical = []
        signed_xml[sig.revision] = historical[0] if len(historical) == 1 else None
    return PdfFacts(
        sha256=hashlib.sha256(pdf).hexdigest(),
        signatures=tuple(signatures),
        timestamps=tuple(timestamps),
        embedded_xml=found[0],
        other_embedded_xml=tuple(found[1:]),
        signed_xml=signed_xml,
        page_text=page_text(pdf, reader.budget),
    )
