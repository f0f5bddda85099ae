"""What the signing service reaches over the network: transcript's documents, the TSA, CRLs; and its trust roots.

All synchronous httpx, so under eventlet they yield like any other socket; pyHanko's own HTTP clients would need
a real asyncio loop or threads.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import ValidationContext

from services.runtime import http_client
from services.runtime.documents import RemoteDocuments
from services.runtime.settings import Settings


def transcript_documents(settings: Settings) -> RemoteDocuments:
    return RemoteDocuments(settings.transcript_url, settings, caller="signing")


class RevocationInfo:
    """CRLs for the certificates we embed validation data for (the seal's chain and the TSA's), fetched with
    httpx from their distribution points and kept until their next update."""

    def __init__(self, ttl: float = 3600.0) -> None:
        self._client = http_client.client(timeout=10.0)
        self._cache: dict[str, tuple[float, asn1_crl.CertificateList]] = {}
        self._ttl = ttl
        self._lock = threading.Lock()

    def _fetch(self, url: str) -> asn1_crl.CertificateList | None:
        with self._lock:
            cached = self._cache.get(url)
            if cached and cached[0] > time.monotonic():
                return cached[1]
        try:
            response = self._client.get(url)
            response.raise_for_status()
            crl = asn1_crl.CertificateList.load(response.content)
        except (httpx.HTTPError, ValueError):
            return cached[1] if cached else None
        next_update = crl["tbs_cert_list"]["next_update"].native
        ttl = self._ttl
        if next_update is not None:
            ttl = min(ttl, max(60.0, (next_update - datetime.now(UTC)).total_seconds()))
        with self._lock:
            self._cache[url] = (time.monotonic() + ttl, crl)
        return crl

    def crls_for(self, certificates: list[asn1_x509.Certificate]) -> list[asn1_crl.CertificateList]:
        urls = {dp.url for cert in certificates for dp in cert.crl_distribution_points if dp.url}
        return [crl for url in sorted(urls) if (crl := self._fetch(url)) is not None]

    def validation_context(
        self, roots: list[asn1_x509.Certificate], certificates: list[asn1_x509.Certificate]
    ) -> ValidationContext:
        return ValidationContext(
            trust_roots=roots,
            other_certs=certificates,
            crls=self.crls_for(certificates),
            allow_fetching=False,
            revocation_mode="hard-fail",
        )
