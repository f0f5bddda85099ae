"""Two greenlets signing at once in one process (a teacher's batch while the seal timer runs) take turns."""

import time

import eventlet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from pyhanko.sign.timestamps import DummyTimeStamper

import sandbox.pki as pki
from services.signing.documents import pdf as pdf_doc
from tests.signing.records import documents


class SlowTimestamper(DummyTimeStamper):
    """A TSA that answers after a green sleep: the greenlet yields while its coroutine is running."""

    async def async_request_tsa_response(self, req):
        eventlet.sleep(0.05)
        return await super().async_request_tsa_response(req)


def test_concurrent_signatures_in_green_threads_do_not_trip_over_the_event_loop():
    _, pdf, plan = documents()
    pdf = pdf_doc.add_signature_fields(pdf, plan)
    ident = pki.identity("teacher-a")
    tsa = SlowTimestamper(pki.certificate("tsa"), pki.tsa_key_info())
    step = plan.step(1)

    def sign_once() -> bytes:
        prepared = pdf_doc.prepare(pdf, step, ident.certificate, ident.chain, certify=True)
        value = ident.key.sign(prepared.to_sign, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        return pdf_doc.finish(prepared, value, ident.certificate, ident.chain, tsa)

    started = time.monotonic()
    pool = eventlet.GreenPool()
    results = list(pool.imap(lambda _: sign_once(), range(4)))
    assert all(r.startswith(b"%PDF") and len(r) > len(pdf) for r in results)
    assert time.monotonic() - started < 30
