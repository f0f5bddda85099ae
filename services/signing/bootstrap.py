"""The signing service's wiring: the one place it reads settings and builds its adapters."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper

from services.runtime.documents import RemoteDocuments
from services.runtime.settings import Settings
from services.runtime.timestamps import HttpxTimeStamper
from services.runtime.trust import ca_chain, trust_roots
from services.signing.adapters.clients import RevocationInfo, transcript_documents
from services.signing.adapters.hsm import SealKeys
from services.signing.adapters.sealer import QrSealer, Sealer
from services.signing.app.certificates import CertificateCheck, certificate_check


@dataclass(frozen=True)
class SigningAdapters:
    roots: list[asn1_x509.Certificate]  # what signatures and timestamps must chain to
    documents: RemoteDocuments  # the transcript service's unsigned documents
    timestamper: TimeStamper  # the TSA, for people's signatures and the seal
    certificate_check: CertificateCheck  # a signer's certificate against the roots
    sealer: Sealer  # the school seal in the HSM (its session opened on first use)
    qr: QrSealer  # the school's QR-summary key, in the same HSM session
    signing_cutoff: str  # MM-DD of the reporting cutoff, for the readiness view


def bootstrap(settings: Settings) -> SigningAdapters:
    roots = trust_roots(settings)
    chain = tuple(ca_chain(settings))
    timestamper = HttpxTimeStamper(settings.tsa_url)
    keys = SealKeys(settings, chain)
    return SigningAdapters(
        roots=roots,
        documents=transcript_documents(settings),
        timestamper=timestamper,
        certificate_check=certificate_check(roots),
        sealer=Sealer(keys, timestamper, RevocationInfo(), roots, chain),
        qr=QrSealer(keys),
        signing_cutoff=settings.signing_cutoff,
    )
