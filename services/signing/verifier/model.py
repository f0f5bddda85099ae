"""What the verifier observed (plain values, no pyHanko or signxml objects) and what it concluded.

The readers (:mod:`.pdf_checks`, :mod:`.xml_checks`, :mod:`.record`) turn library objects into these facts; the
policy (:mod:`.policy`) judges them. Keeping the two apart lets the policy be tested without signing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.signing.domain.model import Plan

# EU DSS vocabulary (ETSI EN 319 102-1): the overall indication and, when not passed, the reason class.
TOTAL_PASSED = "TOTAL_PASSED"
TOTAL_FAILED = "TOTAL_FAILED"
INDETERMINATE = "INDETERMINATE"

HASH_FAILURE = "HASH_FAILURE"
SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
REVOKED = "REVOKED"
FORMAT_FAILURE = "FORMAT_FAILURE"
SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"

# Most severe first: the report names the worst reason found. A failure (the document is wrong) outranks an
# indeterminate result (we cannot tell, e.g. an unknown CA).
SEVERITY = (
    HASH_FAILURE,
    SIG_CRYPTO_FAILURE,
    REVOKED,
    FORMAT_FAILURE,
    SIG_CONSTRAINTS_FAILURE,
    "NOT_YET_VALID",
    NO_CERTIFICATE_CHAIN_FOUND,
)


class Unreadable(Exception):
    """The input cannot be examined at all (not a PDF, no embedded record, unparsable): exit 2, not a verdict."""


@dataclass(frozen=True)
class SubjectLine:
    """A subject row as the page must print it: the name, then its values in print order (``8,1`` not ``8.1``)."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class RecordFacts:
    """What the embedded year record says: who must sign, and what the printed page must show."""

    plan: Plan
    school_name: str
    student_name: str
    class_name: str
    school_year: str
    subjects: tuple[SubjectLine, ...]
    # The student's details, effective date and version as the page labels them: ("Ngày sinh", "13/07/2011"), …
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Signer:
    """The signing certificate's subject (and whether a trust anchor vouches for it, decided elsewhere)."""

    common_name: str | None
    organisation: str | None
    serial_number: (
        str | None
    )  # the subject's serialNumber: Vietnamese certificates carry the holder's id here
    issuer: str | None = None


@dataclass(frozen=True)
class PdfSignature:
    """One PDF signature (not a document timestamp) as pyHanko validated it."""

    field: str
    revision: int
    signer: Signer
    claimed_roles: tuple[str, ...]
    time: datetime | None  # the signature timestamp's time if any, else the time the signer claims
    timestamped: bool
    level: str  # PAdES B-B / B-T / B-LT / B-LTA
    intact: bool
    valid: bool
    trusted: bool
    revoked: bool
    trust_problem: (
        str | None
    )  # pyHanko's AdES sub-indication when not trusted (e.g. NO_CERTIFICATE_CHAIN_FOUND)
    trust_problem_is_failure: bool
    modification_level: str  # NONE / LTA_UPDATES / FORM_FILLING / ANNOTATIONS / OTHER
    docmdp_ok: bool
    bottom_line: bool
    error: str | None = None  # the signature could not be validated at all (malformed CMS or dictionary)


@dataclass(frozen=True)
class DocumentTimestamp:
    revision: int
    time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str


@dataclass(frozen=True)
class PdfFacts:
    """Everything read from the PDF: its signatures in revision order and the XML it carries."""

    sha256: str
    signatures: tuple[PdfSignature, ...]
    timestamps: tuple[DocumentTimestamp, ...]
    embedded_xml: bytes
    other_embedded_xml: tuple[bytes, ...]  # further, different "hocba.xml" attachments (must not exist)
    signed_xml: dict[int, bytes | None]  # per signature revision: the hocba.xml that revision contained
    page_text: str


@dataclass(frozen=True)
class XmlSignature:
    """One XAdES signature of the standalone package, checked by signxml plus our chain validation."""

    position: int  # 1-based place among the package's signatures
    order: str | None  # the holder's attributes, as written
    role: str | None
    field: str | None
    signer: Signer | None
    claimed_roles: tuple[str, ...]
    time: datetime | None
    verified: bool  # signxml: digests and signature value
    error: str | None
    error_indication: str | None  # HASH_FAILURE / SIG_CRYPTO_FAILURE / FORMAT_FAILURE when not verified
    references_ok: bool  # references exactly #record and every earlier signature
    trusted: bool
    revoked: bool
    trust_problem: str | None


@dataclass(frozen=True)
class XmlFacts:
    record: bytes | None  # the record as the PDF would embed it (c14n2), None if the package has none
    signatures: tuple[XmlSignature, ...]
    schema_errors: tuple[str, ...] = ()  # what contracts/transcript/hocba-signed-1.xsd refuses, if anything


@dataclass(frozen=True)
class Check:
    """One policy check; ``detail`` says why in Vietnamese, for the person reading the report."""

    name: str
    title: str
    passed: bool
    detail: str
    sub_indication: str | None = None

    @property
    def indication(self) -> str:
        if self.passed:
            return TOTAL_PASSED
        return INDETERMINATE if self.sub_indication in INDETERMINATE_REASONS else TOTAL_FAILED


@dataclass(frozen=True)
class Verdict:
    indication: str
    sub_indication: str | None

    @staticmethod
    def worst(sub_indications: list[str | None]) -> Verdict:
        found = [s for s in sub_indications if s]
        if not found:
            return Verdict(TOTAL_PASSED, None)
        worst = min(found, key=lambda s: SEVERITY.index(s) if s in SEVERITY else len(SEVERITY))
        return Verdict(INDETERMINATE if worst in INDETERMINATE_REASONS else TOTAL_FAILED, worst)


INDETERMINATE_REASONS = frozenset(
    {NO_CERTIFICATE_CHAIN_FOUND, "TRY_LATER", "NO_POE", "EXPIRED", "NOT_YET_VALID"}
)


@dataclass(frozen=True)
class Judged:
    """The policy's conclusion: its checks, and a verdict per PDF and XML signature (same order as the facts)."""

    checks: tuple[Check, ...]
    pdf_verdicts: tuple[Verdict, ...]
    xml_verdicts: tuple[Verdict, ...] = field(default=())
