"""What the signing service reaches over the network: transcript's documents, the TSA, CRLs; and its trust roots.

All synchronous httpx, so under eventlet they yield like any other socket; pyHanko's own HTTP clients would need
a real asyncio loop or threads.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from asn1crypto import crl as asn1_crl
from asn1crypto import pem, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, set_tsp_headers
from pyhanko_certvalidator import ValidationContext

from services.runtime.documents import RemoteDocuments
from services.runtime.settings import Settings


def transcript_documents(settings: Settings) -> RemoteDocuments:
    return RemoteDocuments(settings.transcript_url, settings, caller="signing")


class HttpxTimeStamper(TimeStamper):
    """RFC 3161 over httpx; one instance per process (pyHanko reuses its dummy response for size estimates)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.url = url
        self._client = httpx.Client(timeout=timeout)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            response = self._client.post(self.url, content=req.dump(), headers=set_tsp_headers({}))
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"timestamp server unreachable: {type(exc).__name__}") from exc
        if response.headers.get("Content-Type") != "application/timestamp-reply":
            raise TimestampRequestError(f"timestamp server answered {response.status_code}")
        return tsp.TimeStampResp.load(response.content)


def load_certificates(path: str | Path) -> list[asn1_x509.Certificate]:
    data = Path(path).read_bytes()
    if not pem.detect(data):
        return [asn1_x509.Certificate.load(data)]
    return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]


class RevocationInfo:
    """CRLs for the certificates we embed validation data for (the seal's chain and the TSA's), fetched with
    httpx from their distribution points and kept until their next update."""

    def __init__(self, ttl: float = 3600.0) -> None:
        self._client = httpx.Client(timeout=10.0)
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
