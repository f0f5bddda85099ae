"""The signing service's long-lived collaborators, built once per process on first use."""

from __future__ import annotations

from functools import cached_property

from services.runtime.documents import RemoteDocuments
from services.runtime.settings import get_settings
from services.runtime.timestamps import HttpxTimeStamper
from services.runtime.trust import ca_chain, trust_roots
from services.signing.app.certificates import CertificateCheck, certificate_check
from services.signing.clients import RevocationInfo, transcript_documents
from services.signing.hsm import SealKeys
from services.signing.sealer import Sealer


class SigningRuntime:
    @cached_property
    def roots(self) -> list:  # type: ignore[type-arg]
        return trust_roots(get_settings())

    @cached_property
    def documents(self) -> RemoteDocuments:
        return transcript_documents(get_settings())

    @cached_property
    def timestamper(self) -> HttpxTimeStamper:
        return HttpxTimeStamper(get_settings().tsa_url)

    @cached_property
    def certificate_check(self) -> CertificateCheck:
        return certificate_check(self.roots)

    @cached_property
    def sealer(self) -> Sealer:
        chain = tuple(ca_chain(get_settings()))
        return Sealer(SealKeys(get_settings(), chain), self.timestamper, RevocationInfo(), self.roots, chain)
