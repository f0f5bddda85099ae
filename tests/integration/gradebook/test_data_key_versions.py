"""Students stored under the single data key (v0) stay protected after the sub-keys: their ID is still one
student's, and re-importing them moves the row to the v1 seal and hash (services/runtime/data_key.py)."""

import base64
import hashlib
import hmac
import json
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update

from sandbox.sample_school import build, to_csv
from services.gradebook.store.tables import students
from services.runtime.data_key import HEADER_V1, DataVault, Hashed, Sealed
from services.runtime.db import make_engine
from services.runtime.settings import get_settings
from tests.integration.gradebook.support import Client, load_school


def _v0_seal(key: bytes, text: str, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, text.encode(), aad)


def _row(engine, student_id: str):
    with engine.connect() as conn:
        return conn.execute(select(students).where(students.c.id == student_id)).one()


def test_a_v0_student_keeps_its_id_and_moves_to_v1_when_re_imported(gradebook, service_databases):
    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=1, students_per_class=3)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    first, second = sample.students[0], sample.students[1]
    key = base64.b64decode(get_settings().data_key.get_secret_value())
    engine = make_engine(service_databases["gradebook"])
    # The first student as a deployment before the sub-keys stored it: the data key itself seals and hashes.
    details = json.dumps(
        {"birth_date": first["birth_date"], "birth_place": first["birth_place"]}, ensure_ascii=False
    )
    with engine.begin() as conn:
        conn.execute(
            update(students)
            .where(students.c.id == first["student_id"])
            .values(
                personal_id_enc=_v0_seal(key, first["personal_id"], b"personal_id"),
                personal_details_enc=_v0_seal(key, details, b"personal_details"),
                personal_id_hash=hmac.new(key, first["personal_id"].encode(), hashlib.sha256).hexdigest(),
            )
        )
    vault = DataVault.from_settings()
    assert (
        vault.decrypt(bytes(_row(engine, first["student_id"]).personal_id_enc), Sealed.PERSONAL_ID)
        == first["personal_id"]
    )
    second_before = _row(engine, second["student_id"])

    with client.as_("van-thu", "staff") as http:
        taken = http.post(
            f"/schools/{sample.school_id}/imports/students",
            content=to_csv([{**second, "personal_id": first["personal_id"]}]),
            headers={"Content-Type": "text/csv"},
        )
        assert taken.status_code == 422, taken.text
        assert [r["column"] for r in taken.json()["errors"]] == ["personal_id"]
        assert _row(engine, second["student_id"]) == second_before

        again = http.post(
            f"/schools/{sample.school_id}/imports/students",
            content=to_csv([first]),
            headers={"Content-Type": "text/csv"},
        )
        assert again.status_code == 201, again.text
    row = _row(engine, first["student_id"])
    assert row.personal_id_hash == vault.keyed_hash(first["personal_id"], Hashed.PERSONAL_ID_LOOKUP)
    assert bytes(row.personal_id_enc).startswith(HEADER_V1)
    assert bytes(row.personal_details_enc).startswith(HEADER_V1)
    assert vault.decrypt(bytes(row.personal_id_enc), Sealed.PERSONAL_ID) == first["personal_id"]
    engine.dispose()
