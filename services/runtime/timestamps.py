"""RFC 3161 timestamps: a TSA client over httpx (green under eventlet), and proof that a token covers a digest.

The signing service timestamps signatures with it; the audit service timestamps the head of each school's chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from asn1crypto import cms, core, pem, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, set_tsp_headers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from services.runtime import http_client

T = TypeVar("T")
_turn = threading.Lock()  # green under eventlet: see run()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a pyHanko coroutine from synchronous code, one at a time per process.

    asyncio keeps "the running loop" per OS thread and all green threads share one: two greenlets each inside
    ``asyncio.run``, one yielding on a green socket, would make the other fail. The lock makes them take turns.
    """
    with _turn:
        return asyncio.run(coro)


class HttpxTimeStamper(TimeStamper):
    """RFC 3161 over httpx; one instance per process (pyHanko reuses its dummy response for size estimates)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.url = url
        self._client = http_client.client(timeout=timeout)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            response = self._client.post(self.url, content=req.dump(), headers=set_tsp_headers({}))
        except httpx.HTTPError as exc:
            raise TimestampRequestError(f"timestamp server unreachable: {type(exc).__name__}") from exc
        if response.headers.get("Content-Type") != "application/timestamp-reply":
            raise TimestampRequestError(f"timestamp server answered {response.status_code}")
        return tsp.TimeStampResp.load(response.content)


class KeptKeyTimeStamper(DummyTimeStamper):
    """pyHanko's in-memory TSA with its key loaded once. ``DummyTimeStamper`` loads the RSA key from DER for every
    token, and cryptography checks the key on each load: about 0.15 CPU-s a token, most of what signing a record
    in a test cost (signing.md §1.7 is the same trap for signers)."""

    def __init__(
        self, tsa_cert: asn1_x509.Certificate, tsa_key: asn1_keys.PrivateKeyInfo, **options: Any
    ) -> None:
        super().__init__(tsa_cert, tsa_key, **options)
        key = serialization.load_der_private_key(tsa_key.dump(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise NotImplementedError("pyHanko's dummy timestamper is RSA-only")
        self._key = key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        # pyHanko's own (timestamps/dummy_client.py), with the loaded key.
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", hashlib.new(md_algorithm, tst_info_data).digest()),
            ]
        )
        signature = self._key.sign(
            signed_attrs.dump(), padding.PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs


class FakeTimestamper(KeptKeyTimeStamper):
    """The TSA in memory, for tests: pyHanko's own test TSA (it signs tokens with the TSA's key and certificate), at
    a fixed time, with serial numbers counting from 1 and no nonce, so the same requests give the same tokens.

    Its tokens are real RFC 3161 tokens: :func:`check_timestamp` accepts them under the TSA's roots, and pyHanko
    embeds them in signatures. ``down = True`` refuses every request as :class:`HttpxTimeStamper` does when the TSA
    is unreachable; ``requests`` counts the ones it answered (pyHanko asks one more, once, to size a signature).
    """

    def __init__(
        self,
        tsa_cert: asn1_x509.Certificate,
        tsa_key: asn1_keys.PrivateKeyInfo,
        at: datetime = datetime(2026, 5, 20, 8, 0, tzinfo=UTC),
    ) -> None:
        super().__init__(tsa_cert, tsa_key, fixed_dt=at, include_nonce=False)
        self.down = False
        self.requests = 0

    def _build_tst_info(
        self, message_imprint: tsp.MessageImprint, dt: datetime, req: tsp.TimeStampReq
    ) -> tsp.TSTInfo:
        self.requests += 1
        info = super()._build_tst_info(message_imprint, dt, req)
        info["serial_number"] = self.requests  # pyHanko's is random
        return info

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        if self.down:
            raise TimestampRequestError("timestamp server unreachable: ConnectError")
        return super().request_tsa_response(req)


def timestamp(timestamper: TimeStamper, digest: bytes) -> bytes:
    """A timestamp token (DER ContentInfo) over a sha256 digest."""
    return bytes(run(timestamper.async_timestamp(digest, "sha256")).dump())


@dataclass(frozen=True)
class TimestampCheck:
    valid: bool
    time: datetime | None
    reason: str | None = None


def check_timestamp(token: bytes, digest: bytes, roots: Sequence[asn1_x509.Certificate]) -> TimestampCheck:
    """Does ``token`` prove that ``digest`` existed at its time, signed by a TSA under ``roots``?"""
    try:
        signed_data = cms.ContentInfo.load(token)["content"]
        status = run(
            validate_tst_signed_data(
                signed_data,
                ValidationContext(trust_roots=list(roots), allow_fetching=False),
                lambda _: digest,
            )
        )
    except Exception as exc:  # noqa: BLE001 - any parse or crypto failure means: not a proof
        return TimestampCheck(False, None, f"unreadable timestamp token ({type(exc).__name__})")
    if not status.get("intact"):
        return TimestampCheck(False, status.get("timestamp"), "the token does not cover this digest")
    trusted = status.get("trust_problem_indic") is None and status.get("validation_path") is not None
    if not status.get("valid") or not trusted:
        return TimestampCheck(
            False, status.get("timestamp"), "the token's signature is not valid or not trusted"
        )
    return TimestampCheck(True, status.get("timestamp"))


def load_certificates(path: str | Path) -> list[asn1_x509.Certificate]:
    """Certificates from a PEM bundle or a single DER file (trust roots, CA chains)."""
    data = Path(path).read_bytes()
    if not pem.detect(data):
        return [asn1_x509.Certificate.load(data)]
    return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
