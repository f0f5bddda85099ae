"""`hocba bench signing`: signatures/s of the signing service for a class batch, against a bare pyHanko loop.

Same run, same documents, same TSA, same RSA-2048 keys: the service path is two HTTP requests per teacher per
class (prepare the batch, send the values), the database between them, the PDF and the XML; the baseline signs
the PDFs in a loop with a cached key and nothing else.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from sandbox.ports import free_port
from services.runtime import http_client

if TYPE_CHECKING:
    from services.signing.domain.model import Plan, Step


class _Memory:
    """The documents the transcript service would serve, held in memory for the bench."""

    def __init__(self) -> None:
        self.content: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        self.content[digest] = data
        return digest

    def get(self, sha256: str) -> bytes:
        return self.content[sha256]


@contextmanager
def _signing_service() -> Iterator[str]:
    from nameko.containers import ServiceContainer

    from services.runtime.settings import get_settings
    from services.signing.service import SigningService

    port = free_port()
    container = ServiceContainer(
        SigningService, get_settings().nameko_config("signing", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    )
    container.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        container.stop()


@dataclass
class Baseline:
    """What the bare loop did: signatures made, how long it took, and the keys it held (to reuse them)."""

    signatures: int
    seconds: float
    keys: dict[str, Any]
    certificates: dict[str, Any]

    @property
    def per_s(self) -> float:
        return self.signatures / self.seconds if self.seconds else 0.0


def bare_pyhanko(documents: list[tuple[bytes, Plan]], steps: Callable[[Plan], Sequence[Step]]) -> Baseline:
    """The baseline: pyHanko signs each document's ``steps(plan)`` in a loop, RSA-2048 keys generated and loaded
    once, the same loopback TSA; the school seal step (if included) as the sealer makes it (B-LTA, CRLs embedded).

    No database, no HTTP between the signer and the service, no XML: the cost of the signatures alone.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from pyhanko.sign.signers.pdf_cms import Signer
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    import sandbox.pki as pki
    from services.runtime.settings import get_settings
    from services.runtime.timestamps import HttpxTimeStamper
    from services.runtime.trust import ca_chain, trust_roots
    from services.signing.adapters.clients import RevocationInfo
    from services.signing.documents import pdf as pdf_doc

    settings = get_settings()
    keys: dict[str, Any] = {}
    certs: dict[str, Any] = {}
    for _, plan in documents:
        for step in steps(plan):
            if step.signer_id not in keys:
                keys[step.signer_id] = rsa.generate_private_key(65537, 2048)
                certs[step.signer_id] = pki.issue(
                    keys[step.signer_id].public_key(),
                    common_name=step.signer_name,
                    unit="Con dấu" if step.is_seal else "Giáo viên",
                    organisation="Bench",
                    subject_id=step.signer_id,
                )
    tsa = HttpxTimeStamper(settings.tsa_url)
    roots = trust_roots(settings)
    chain = ca_chain(settings)
    revocation = RevocationInfo()
    registry = SimpleCertificateStore.from_certs([pki.issuing_ca()])

    class CachedKey(Signer):
        def __init__(self, signer_id: str) -> None:
            self._key = keys[signer_id]
            super().__init__(signing_cert=certs[signer_id], cert_registry=registry)

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    count = 0
    started = time.monotonic()
    for pdf, plan in documents:
        for step in steps(plan):
            signer = CachedKey(step.signer_id)
            if step.is_seal:
                context = revocation.validation_context(roots, [certs[step.signer_id], *chain])
                pdf = pdf_doc.seal(pdf, step, signer, tsa, context)
            else:
                pdf = pdf_doc.sign_directly(pdf, step, signer, tsa, certify=step.order == 1)
            count += 1
    return Baseline(count, time.monotonic() - started, keys, certs)


def run(students: int, steps: int, console: Console) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, utils

    import sandbox.pki as pki
    from cli.bench.transcript import sample_records
    from contracts.envelope import Envelope
    from contracts.transcript import TranscriptAssembledV1
    from sandbox.issuer import mint_token
    from services.runtime.consume import handle_once
    from services.runtime.db import make_engine
    from services.runtime.settings import get_settings
    from services.signing.app.handlers import CONSUMER_ASSEMBLED, register_record
    from services.signing.app.unit_of_work import SigningUnitOfWork
    from services.signing.documents import pdf as pdf_doc
    from services.signing.domain.model import Plan, Step
    from services.transcript.app.handlers import announced_plan
    from services.transcript.documents import pdf_form, xml_package

    settings = get_settings()
    school = f"bench-sign-{uuid.uuid4().hex[:6]}"
    records = sample_records(students)
    memory = _Memory()
    engine = make_engine(settings.db_url("signing"))
    from sqlalchemy.orm import sessionmaker

    sessions = sessionmaker(engine)
    fielded: list[tuple[bytes, Plan]] = []
    with console.status(f"assembling and registering {students} records"):
        for record in records:
            xml = xml_package.build(record)
            pdf = pdf_form.render(xml)
            plan = Plan(
                tuple(
                    Step(
                        s.order,
                        s.role,
                        s.field_name,
                        s.signer_id,
                        s.signer_name,
                        tuple(s.covers),
                        s.on_behalf_of,
                    )
                    for s in record.signature_plan
                )
            )
            fielded.append((pdf_doc.add_signature_fields(pdf, plan), plan))
            event = TranscriptAssembledV1(
                school_id=school,
                class_id=f"{school}-8a1",
                student_id=record.student_id,
                transcript_id=record.transcript_id,
                year_record_id=f"{school}-{record.year_record_id}",
                school_year=record.school_year,
                version=1,
                xml_sha256=memory.put(xml),
                pdf_sha256=memory.put(pdf),
                signature_plan=announced_plan(record),
            )
            handle_once(
                Envelope.wrap(event, source_service="transcript"),
                CONSUMER_ASSEMBLED,
                partial(SigningUnitOfWork, sessions),
                partial(register_record, source=memory),
            )
    plan = fielded[0][1]
    signers = plan.person_steps[:steps]
    with console.status("baseline: bare pyHanko loop"):
        baseline = bare_pyhanko(fielded, lambda plan: plan.person_steps[:steps])
    keys, certs, bare_s = baseline.keys, baseline.certificates, baseline.seconds
    count = len(fielded) * len(signers)

    chain = [base64.b64encode(pki.issuing_ca().dump()).decode()]
    with (
        _signing_service() as url,
        http_client.client(base_url=url, timeout=300) as http,
        console.status("the signing service: prepare a class batch, sign the digests, send them back"),
    ):
        started = time.monotonic()
        for step in signers:
            auth = {
                "Authorization": "Bearer "
                + mint_token(
                    settings, user_id=step.signer_id, roles=["teacher", "homeroom"], school_id=school
                )
            }
            batch = http.post(
                "/signing/batches",
                headers=auth,
                json={
                    "class_id": f"{school}-8a1",
                    "certificate": base64.b64encode(certs[step.signer_id].dump()).decode(),
                    "chain": chain,
                },
            )
            batch.raise_for_status()
            body = batch.json()
            key = keys[step.signer_id]

            def sign(b64: str, key: Any = key) -> str:
                value = key.sign(base64.b64decode(b64), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
                return base64.b64encode(value).decode()

            done = http.post(
                f"/signing/batches/{body['batch_id']}/signatures",
                headers=auth,
                json={
                    "signatures": [
                        {
                            "item_id": i["item_id"],
                            "pdf_signature": sign(i["pdf_to_sign"]),
                            "xml_signature": sign(i["xml_to_sign"]),
                        }
                        for i in body["items"]
                    ]
                },
            )
            done.raise_for_status()
            if len(done.json()["signed"]) != students:
                raise RuntimeError(
                    f"the service signed {len(done.json()['signed'])} of {students}: {done.text[:300]}"
                )
        service_s = time.monotonic() - started
    engine.dispose()
    result = {
        "students": students,
        "steps": len(signers),
        "signatures": count,
        "service_per_s": round(count / service_s, 1),
        "bare_pyhanko_per_s": round(count / bare_s, 1),
        "ratio": round(bare_s / service_s, 2),
    }
    table = Table(
        title=f"signing, a class of {students} × {len(signers)} teachers' steps (B-T, RSA-2048), same run"
    )
    table.add_column("path")
    table.add_column("signatures/s")
    table.add_row("signing service (PDF + XML, DB state, HTTP)", str(result["service_per_s"]))
    table.add_row("bare pyHanko loop, cached key (PDF only)", str(result["bare_pyhanko_per_s"]))
    table.add_row("ratio service / bare", str(result["ratio"]))
    Console().print(table)
    return result
