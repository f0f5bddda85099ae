"""Signing end to end through real services: the year lock's records are signed by every teacher, the homeroom
teacher and the principal through the remote signing service, in order, then sealed by the HSM, and announced."""

from __future__ import annotations

import base64
import io
import json
import threading
import uuid

import httpx
import pytest
from lxml import etree
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

import sandbox.pki as pki
from cli.signer_client import sign_as
from sandbox.issuer import mint_service_token, mint_token
from sandbox.ports import free_port
from sandbox.sample_school import build
from services.gradebook.service import GradebookService
from services.gradebook.store.tables import outbox as gradebook_outbox
from services.runtime import http_client
from services.runtime.broker import subscriptions_of
from services.runtime.db import make_engine
from services.runtime.relay import ConfirmingPublisher, OutboxRelay
from services.runtime.settings import get_settings
from services.runtime.timestamps import HttpxTimeStamper
from services.signing.adapters.hsm import SealKeys
from services.signing.app.handlers import plan_from_xml
from services.signing.documents import xml as xml_doc
from services.signing.service import SigningService
from services.signing.store.tables import outbox as signing_outbox
from services.signing.store.tables import records as signing_records
from services.transcript.service import TranscriptService
from services.transcript.store.tables import outbox as transcript_outbox
from tests.factories import digitised_year
from tests.helpers import purge, rewire, running, wait_for
from tests.integration.gradebook.support import Client, approved_amendment, enter_year_and_lock, load_school
from tests.integration.signing.test_visible_signatures import check_visible_signatures

pytestmark = pytest.mark.integration
STUDENTS = 3


def _relay(name, url, table, amqp_uri, stop):
    engine = make_engine(url)
    relay = OutboxRelay(name, engine, table, ConfirmingPublisher(amqp_uri))
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll_seconds": 0.05}, daemon=True)
    thread.start()
    return thread


@pytest.fixture(scope="module")
def stack(amqp_uri, service_databases, animator, remote_signer):
    for cls in (TranscriptService, SigningService):
        for s in subscriptions_of(cls):
            purge(amqp_uri, s.queue)
            purge(amqp_uri, s.dead_letter_queue)
    stop = threading.Event()
    with (
        running(GradebookService, amqp_uri) as gradebook,
        running(TranscriptService, amqp_uri) as transcript,
    ):
        threads = [
            _relay("gradebook", service_databases["gradebook"], gradebook_outbox, amqp_uri, stop),
            _relay("transcript", service_databases["transcript"], transcript_outbox, amqp_uri, stop),
            _relay("signing", service_databases["signing"], signing_outbox, amqp_uri, stop),
        ]
        try:
            yield {
                "gradebook": gradebook.http_url,
                "transcript": transcript.http_url,
                "amqp_uri": amqp_uri,
                "signing_db": make_engine(service_databases["signing"]),
            }
        finally:
            stop.set()
            for t in threads:
                t.join(10)


def _lock_a_class(
    gradebook: str, students: int, sample_out: list | None = None, sample=None
) -> tuple[str, str]:
    """Load a one-class sample school (or ``sample``), enter the whole year through the API, lock both terms."""
    sample = sample or build(f"thcs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=students)
    if sample_out is not None:
        sample_out.append(sample)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    class_id = sample.classes[0]["class_id"]
    enter_year_and_lock(client, sample, class_id)
    return sample.school_id, class_id


def _from_this_transcript(stack) -> dict:
    """The signing service's config: it fetches unsigned documents from this test's transcript service."""
    return {"SETTINGS": {"transcript_url": stack["transcript"]}}


def _records(engine, school_id):
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(signing_records).where(signing_records.c.school_id == school_id)
            ).mappings()
        ]


def _token(user: str, school_id: str, *roles: str) -> str:
    return mint_token(
        get_settings(), user_id=user, roles=roles or ("teacher", "homeroom"), school_id=school_id
    )


def _status(url: str, school_id: str) -> dict:
    response = http_client.get(
        f"{url}/schools/{school_id}/signing/status",
        headers={"Authorization": f"Bearer {_token('vt', school_id, 'staff')}"},
    )
    response.raise_for_status()
    return response.json()


def test_a_class_is_signed_in_plan_order_then_sealed_and_announced(stack, amqp_uri, remote_signer, tmp_path):
    school_id, class_id = _lock_a_class(stack["gradebook"], STUDENTS)
    SealKeys(get_settings(), (pki.issuing_ca(),)).provision(
        school_id,
        lambda pub: pki.issue(
            pub,
            common_name="Trường THCS Nguyễn Du",
            unit="Con dấu",
            organisation="Trường THCS Nguyễn Du",
            subject_id=school_id,
        ),
    )
    with running(SigningService, amqp_uri, **_from_this_transcript(stack)) as signing:
        url = signing.http_url
        wait_for(
            lambda: len(_records(stack["signing_db"], school_id)) == STUDENTS,
            timeout=90,
            what="records registered",
        )
        status = _status(url, school_id)
        (klass,) = status["classes"]
        assert klass["records"] == STUDENTS and klass["collecting"] == STUDENTS
        first = klass["waiting_for"][0]
        assert first["records"] == STUDENTS and first["role"] == "subject_teacher"
        assert {s["signer_id"] for s in status["signers_without_certificate"]} >= {first["signer_id"]}
        from typer.testing import CliRunner

        from cli.main import app

        shown = CliRunner().invoke(app, ["signing", "status", "--school", school_id, "--json", "--url", url])
        assert shown.exit_code == 0 and json.loads(shown.output)["classes"][0]["records"] == STUDENTS

        # Not their turn yet: the principal sees nothing pending and is refused when asking by name.
        record = _records(stack["signing_db"], school_id)[0]
        plan_len = len(xml_doc.parse(bytes(record["xml_package"])).findall(".//{urn:hocba:transcript:1}Step"))
        principal_order = plan_len - 1
        principal = http_client.get(
            f"{url}/signing/pending",
            headers={"Authorization": f"Bearer {_token('hieu-truong', school_id, 'principal')}"},
        )
        assert principal.status_code == 200 and principal.json() == []

        # Round by round, each signer signs what waits for them; the seal follows by itself.
        signers_seen = []
        for _ in range(plan_len * 2):
            waiting = [w for c in _status(url, school_id)["classes"] for w in c["waiting_for"]]
            if not waiting:
                break
            for w in waiting:
                signers_seen.append(w["signer_id"])
                result = sign_as(
                    url,
                    remote_signer,
                    _token(w["signer_id"], school_id, "teacher", "homeroom", "principal"),
                    w["signer_id"],
                )
                assert result.refused == [] and result.signed == w["records"]
        records = wait_for(
            lambda: (
                (r := _records(stack["signing_db"], school_id))
                and all(x["status"] == "sealed" for x in r)
                and r
            ),
            timeout=120,
            what="every record sealed",
        )
        assert len(signers_seen) == plan_len - 1

        # transcript.sealed.v1 per record, with the sealed documents' hashes.
        with stack["signing_db"].connect() as conn:
            sealed = [
                r.body["data"]
                for r in conn.execute(
                    select(signing_outbox.c.body).where(
                        signing_outbox.c.ce_type == "vn.hocba.transcript.sealed.v1"
                    )
                )
                if r.body["data"]["school_id"] == school_id
            ]
        assert sorted(s["year_record_id"] for s in sealed) == sorted(r["year_record_id"] for r in records)
        event = sealed[0]
        service_token = mint_service_token(get_settings(), "sync", ["documents:read"])
        pdf = http_client.get(
            f"{url}/documents/{event['pdf_sha256']}", headers={"Authorization": f"Bearer {service_token}"}
        )
        assert pdf.status_code == 200
        package = http_client.get(
            f"{url}/documents/{event['xml_sha256']}", headers={"Authorization": f"Bearer {service_token}"}
        )
        assert package.status_code == 200
        without_token = http_client.get(f"{url}/documents/{event['pdf_sha256']}")
        assert without_token.status_code == 401
        # A user's token (even an operator's) is for user endpoints, not for service-to-service ones.
        operator = mint_token(get_settings(), user_id="ops", roles=["operator"])
        as_user = http_client.get(
            f"{url}/documents/{event['pdf_sha256']}", headers={"Authorization": f"Bearer {operator}"}
        )
        assert as_user.status_code == 401

        # Every signature on the sealed PDF is intact, valid, trusted, and only timestamps follow the seal.
        reader = PdfFileReader(io.BytesIO(pdf.content), strict=False)
        embedded = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
        vc = ValidationContext(trust_roots=[pki.root()], allow_fetching=False, crls=pki.crls())
        persons = [s for s in embedded if s.sig_object_type != "/DocTimeStamp"]
        assert len(persons) == plan_len
        for sig in persons:
            st = validate_pdf_signature(sig, vc)
            assert st.bottom_line, (sig.field_name, st.pretty_print_details())
        assert persons[-1].field_name == "dau_truong"
        assert (
            validate_pdf_timestamp(embedded[-1], vc).valid and embedded[-1].sig_object_type == "/DocTimeStamp"
        )
        # The printout shows each signature in its box (names, dates, the seal), and stays a clean PDF/A.
        root = xml_doc.parse(package.content)
        plan = plan_from_xml(etree.fromstring(xml_doc.record_of(root)))
        check_visible_signatures(pdf.content, plan, tmp_path)
        # The XML package carries one signature per step, over the same record the PDF embeds.
        assert [h.get("order") for h in xml_doc.signatures(root)] == [str(i) for i in range(1, plan_len + 1)]
        assert principal_order == plan_len - 1


def test_refusals_out_of_turn_wrong_person_bad_value_and_a_restart_between_the_halves(
    stack, amqp_uri, remote_signer
):
    samples: list = []
    school_id, class_id = _lock_a_class(stack["gradebook"], 1, samples)
    with running(SigningService, amqp_uri, **_from_this_transcript(stack)) as signing:
        wait_for(
            lambda: len(_records(stack["signing_db"], school_id)) == 1, timeout=90, what="record registered"
        )
        (first,) = [w for c in _status(signing.http_url, school_id)["classes"] for w in c["waiting_for"]]
        record_id = _records(stack["signing_db"], school_id)[0]["year_record_id"]
        teacher = first["signer_id"]
        credentials = http_client.post(
            f"{remote_signer}/enrol", json={"signer_id": teacher, "name": first["signer_name"]}
        ).json()

        def batch(user: str, order: int, creds: dict) -> httpx.Response:
            return http_client.post(
                f"{signing.http_url}/signing/batches",
                json={"records": [{"year_record_id": record_id, "order": order}], **creds},
                headers={"Authorization": f"Bearer {_token(user, school_id)}"},
                timeout=30,
            )

        # Step 2 before step 1: refused, and says why.
        early = batch("someone-else", 2, credentials).json()
        assert early["items"] == [] and early["refused"][0]["error"] in ("not-your-turn", "wrong-signer")
        # Another person asking for the teacher's step: refused even with the teacher's certificate.
        intruder = batch("gv-khac", 1, credentials).json()
        assert intruder["refused"][0]["error"] in ("wrong-signer", "certificate-refused")
        # A certificate from an untrusted CA: refused before anything is prepared.
        rogue = pki.identity("person", arch="rogue")
        refused = batch(teacher, 1, {"certificate": rogue.certificate_pem.decode()})
        assert refused.status_code == 422 and refused.json()["type"].endswith("certificate-refused")

        # The same person id at another school is another person: nothing of this school waits for them.
        elsewhere = {"Authorization": f"Bearer {_token(teacher, 'thcs-khac')}"}
        assert http_client.get(f"{signing.http_url}/signing/pending", headers=elsewhere).json() == []
        foreign = http_client.post(
            f"{signing.http_url}/signing/batches",
            json={"records": [{"year_record_id": record_id, "order": 1}], **credentials},
            headers=elsewhere,
            timeout=30,
        ).json()
        assert foreign["items"] == [] and foreign["refused"][0]["error"] == "no-pending-signature"

        prepared = batch(teacher, 1, credentials)
        assert prepared.status_code == 201
        (item,) = prepared.json()["items"]

    # The service restarts between the two halves: the prepared state is in the database.
    with running(SigningService, amqp_uri, **_from_this_transcript(stack)) as signing:
        digests = [item["pdf_to_sign"], item["xml_to_sign"]]
        values = http_client.post(
            f"{remote_signer}/sign", json={"signer_id": teacher, "digests": digests}
        ).json()["signatures"]
        finish_url = f"{signing.http_url}/signing/batches/{prepared.json()['batch_id']}/signatures"
        auth = {"Authorization": f"Bearer {_token(teacher, school_id)}"}
        wrong = http_client.post(
            finish_url,
            json={
                "signatures": [
                    {"item_id": item["item_id"], "pdf_signature": values[1], "xml_signature": values[0]}
                ]
            },
            headers=auth,
            timeout=30,
        ).json()
        assert wrong["signed"] == [] and wrong["refused"][0]["error"] == "signature-mismatch"
        assert _records(stack["signing_db"], school_id)[0]["next_order"] == 1
        right = {
            "signatures": [
                {"item_id": item["item_id"], "pdf_signature": values[0], "xml_signature": values[1]}
            ]
        }
        # The timestamp authority does not answer: 503, nothing changes, and the same values go through later.
        unreachable = HttpxTimeStamper(f"http://127.0.0.1:{free_port()}/tsa", timeout=1)
        kept = rewire(signing, timestamper=unreachable)
        try:
            busy = http_client.post(finish_url, json=right, headers=auth, timeout=30)
        finally:
            rewire(signing, **kept)
        assert busy.status_code == 503 and busy.json()["type"].endswith("timestamp-unavailable")
        assert "dấu thời gian" in busy.json()["detail"]
        assert _records(stack["signing_db"], school_id)[0]["next_order"] == 1
        done = http_client.post(finish_url, json=right, headers=auth, timeout=30).json()
        assert done["refused"] == [] and done["signed"][0]["order"] == 1
        after = _records(stack["signing_db"], school_id)[0]
        assert after["next_order"] == 2
        reader = PdfFileReader(io.BytesIO(bytes(after["pdf"])), strict=False)
        (sig,) = reader.embedded_signatures
        vc = ValidationContext(trust_roots=[pki.root()], allow_fetching=False)
        status = validate_pdf_signature(sig, vc)
        assert status.intact and status.valid and sig.field_name == "gv_01"
        assert base64.b64decode(values[0])  # the value the device produced is what the PDF carries

        # An approved amendment supersedes the record: version 1 stops collecting, version 2 starts at step 1.
        sample = samples[0]
        client = Client(stack["gradebook"], school_id)
        student = sample.students_of(class_id)[0]["student_id"]
        approved_amendment(client, sample, class_id, student)
        both = wait_for(
            lambda: (r := _records(stack["signing_db"], school_id)) and len(r) == 2 and r,
            timeout=90,
            what="version 2 registered",
        )
        old = next(r for r in both if r["version"] == 1)
        new = next(r for r in both if r["version"] == 2)
        assert old["status"] == "cancelled" and new["status"] == "collecting" and new["next_order"] == 1
        assert new["supersedes"] == old["year_record_id"]
        next_signer, next_name = plan_signer(old, 2)
        creds = http_client.post(
            f"{remote_signer}/enrol", json={"signer_id": next_signer, "name": next_name}
        ).json()
        late = http_client.post(
            f"{signing.http_url}/signing/batches",
            json={"records": [{"year_record_id": old["year_record_id"], "order": 2}], **creds},
            headers={"Authorization": f"Bearer {_token(next_signer, school_id)}"},
            timeout=30,
        ).json()
        assert late["items"] == [] and late["refused"][0]["error"] == "superseded-version"


def plan_signer(record: dict, order: int) -> tuple[str, str]:
    root = xml_doc.parse(bytes(record["xml_package"]))
    step = root.find(f".//{{urn:hocba:transcript:1}}Step[@order='{order}']")
    return step.findtext("{urn:hocba:transcript:1}SignerId"), step.findtext(
        "{urn:hocba:transcript:1}SignerName"
    )


def _typed_in_year(student_id: str) -> dict:
    """A paper year as the clerk types it: two teachers still at the school, one of them homeroom, the principal."""
    body = digitised_year("2023-2024", 6, "Học bạ giấy, trang 7", student_id)
    body["subjects"][0]["teacher"] = {"id": "gv-toan", "name": "Phan Văn Toán"}
    body["subjects"][1]["teacher"] = {"id": "gv-van", "name": "Lê Thị Văn"}
    body["homeroom"] = {"id": "gv-van", "name": "Lê Thị Văn"}
    body["principal"] = {"id": "ht-so", "name": "Đinh Văn Hiệu"}
    return body


def test_a_digitised_year_s_principal_step_needs_the_school_s_principal_token_then_it_seals(
    stack, amqp_uri, remote_signer
):
    """The clerk types every signer of a digitised year; only the token's role and school make a step the
    principal's. A teacher's token under the id typed as principal, or another school's principal, is refused."""
    school_id = f"thcs-so-{uuid.uuid4().hex[:6]}"
    SealKeys(get_settings(), (pki.issuing_ca(),)).provision(
        school_id,
        lambda pub: pki.issue(
            pub,
            common_name="Trường THCS Chu Văn An",
            unit="Con dấu",
            organisation="Trường THCS Chu Văn An",
            subject_id=school_id,
        ),
    )
    token_roles = {"subject_teacher": ("teacher",), "homeroom_teacher": ("teacher", "homeroom")}

    # Signing runs first: its queue must exist when the transcript's relay announces the record.
    with running(SigningService, amqp_uri, **_from_this_transcript(stack)) as signing:
        url = signing.http_url
        typed = http_client.post(
            f"{stack['transcript']}/schools/{school_id}/records/digitised",
            json=_typed_in_year(f"hs-{uuid.uuid4().hex[:6]}"),
            headers={"Authorization": f"Bearer {_token('van-thu', school_id, 'staff')}"},
            timeout=60,
        )
        assert typed.status_code == 201, typed.text
        plan = typed.json()["signature_plan"]
        assert [s["role"] for s in plan] == [
            "subject_teacher",
            "subject_teacher",
            "homeroom_teacher",
            "principal",
            "school_seal",
        ]
        record_id = typed.json()["year_record_id"]
        assert plan[3]["signer_id"] == "ht-so"

        def record() -> dict:
            return next(
                r for r in _records(stack["signing_db"], school_id) if r["year_record_id"] == record_id
            )

        wait_for(lambda: _records(stack["signing_db"], school_id), timeout=90, what="record registered")
        # The teachers' steps, each with the teacher's own token.
        for step in plan[:3]:
            done = sign_as(
                url,
                remote_signer,
                _token(step["signer_id"], school_id, *token_roles[step["role"]]),
                step["signer_id"],
            )
            assert done.refused == [] and done.signed == 1, (step, done)
        assert record()["next_order"] == 4

        credentials = http_client.post(
            f"{remote_signer}/enrol", json={"signer_id": "ht-so", "name": "Đinh Văn Hiệu"}
        ).json()

        def prepare(token: str) -> dict:
            response = http_client.post(
                f"{url}/signing/batches",
                json={"records": [{"year_record_id": record_id, "order": 4}], **credentials},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            return response.json()

        # A teacher's token under the id the clerk typed as the principal: nothing waits for it, and asking for the
        # step by name is refused, saying which role the step needs.
        teacher = _token("ht-so", school_id, "teacher", "homeroom")
        assert (
            http_client.get(f"{url}/signing/pending", headers={"Authorization": f"Bearer {teacher}"}).json()
            == []
        )
        assert sign_as(url, remote_signer, teacher, "ht-so").signed == 0
        refused = prepare(teacher)
        assert refused["items"] == [] and refused["refused"][0]["error"] == "wrong-signer"
        assert "vai trò hiệu trưởng" in refused["refused"][0]["detail"]
        # The principal of another school, under the same id, is another person: the record reads as unknown.
        elsewhere = prepare(_token("ht-so", "thcs-khac", "principal"))
        assert elsewhere["items"] == [] and elsewhere["refused"][0]["error"] == "no-pending-signature"

        # The principal prepares; the values come back under a teacher's token for the same id: refused again at
        # the finish, and the record stays as it was (no seal follows).
        principal = _token("ht-so", school_id, "principal")
        batch = prepare(principal)
        (item,) = batch["items"]
        values = http_client.post(
            f"{remote_signer}/sign",
            json={"signer_id": "ht-so", "digests": [item["pdf_to_sign"], item["xml_to_sign"]]},
        ).json()["signatures"]
        signatures = {
            "signatures": [
                {"item_id": item["item_id"], "pdf_signature": values[0], "xml_signature": values[1]}
            ]
        }
        finish_url = f"{url}/signing/batches/{batch['batch_id']}/signatures"

        def finish(token: str) -> dict:
            response = http_client.post(
                finish_url, json=signatures, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            assert response.status_code == 200, response.text
            return response.json()

        late = finish(teacher)
        assert late["signed"] == [] and late["refused"][0]["error"] == "wrong-signer"
        threading.Event().wait(2)  # the seal timer runs every second: nothing for it to seal
        assert (record()["status"], record()["next_order"]) == ("collecting", 4)

        # With the school's principal token the step is signed, and the seal follows.
        signed = finish(principal)
        assert signed["refused"] == [] and [s["order"] for s in signed["signed"]] == [4]
        sealed = wait_for(
            lambda: (r := record())["status"] == "sealed" and r, timeout=60, what="the record sealed"
        )
        reader = PdfFileReader(io.BytesIO(bytes(sealed["pdf"])), strict=False)
        fields = [s.field_name for s in reader.embedded_signatures if s.sig_object_type != "/DocTimeStamp"]
        assert fields[-2:] == ["hieu_truong", "dau_truong"]
