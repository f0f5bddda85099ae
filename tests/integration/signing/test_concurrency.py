"""Two greenlets signing at once in one process (a teacher's batch while the seal timer runs) take turns."""

import io
import time

import eventlet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, utils
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

import sandbox.pki as pki
from services.runtime.timestamps import KeptKeyTimeStamper
from services.signing.documents import pdf as pdf_doc
from tests.integration.signing.records import documents


class SlowTimestamper(KeptKeyTimeStamper):
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
    assert time.monotonic() - started < 30
    # Each of the four is a valid signature by the teacher over its own document, with its own timestamp: an
    # interleaving that mixed up two signers' state would leave a signature that does not validate.
    assert len(results) == 4
    vc = ValidationContext(trust_roots=[pki.root()], crls=pki.crls(), allow_fetching=False)
    for signed in results:
        (signature,) = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures
        status = validate_pdf_signature(signature, vc)
        assert status.bottom_line, status.pretty_print_details()
        assert signature.field_name == step.field_name
        assert status.signing_cert.dump() == ident.certificate.dump()
        assert status.timestamp_validity is not None and status.timestamp_validity.valid
