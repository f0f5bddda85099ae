"""A school year exported with `hocba export` and restored with `hocba import` into fresh databases is the same year:
every table's rows, the sealed documents byte for byte, an audit chain that verifies. The file is encrypted to the
custodian (mode 0600) and its manifest signed by the platform; tampered, re-signed, re-timestamped or repeated imports
are refused without writing."""

import base64
import hashlib
import io
import json
import stat
import tarfile
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pyrage
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

import sandbox.pki as pki
from cli import archive
from cli import archive_crypto as crypto
from cli import archive_format as fmt
from cli.main import app
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app import handlers as audit_handlers
from services.audit.app.checkpoints import take_checkpoints
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.gradebook.store import tables as gb
from services.runtime.consume import handle_once
from services.runtime.data_key import DataVault
from services.runtime.db import drop_database, make_engine
from services.runtime.migrations import upgrade
from services.runtime.settings import get_settings
from services.runtime.timestamps import KeptKeyTimeStamper, load_certificates, timestamp
from services.signing.store import tables as sg
from services.sync.store import tables as sy
from services.transcript.store import tables as tr
from tests.integration.signing.signed import signed_record

pytestmark = pytest.mark.integration

TSA = KeptKeyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())
_today = datetime.now(UTC)
# Audit entries are recorded now, so the archived year is the current one (it runs from 1 August).
YEAR = f"{_today.year - (_today.month < 8)}-{_today.year - (_today.month < 8) + 1}"
OTHER_YEAR = "2019-2020"
SERVICES = ("gradebook", "transcript", "signing", "sync", "audit")  # every service keeps part of a year


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _fill(urls: dict[str, str], school: str) -> dict[str, object]:
    """A small but complete school year in every service, plus rows that must stay out of the archive."""
    signed = signed_record()
    pdf, package, record_xml = signed.pdf, signed.package, signed.xml
    teachers = [(f"{school}-gv-{n}", f"Giáo viên {n}") for n in range(2)]
    students = [(f"{school}-hs-{n}", f"Học sinh {n}") for n in range(2)]
    cls, old_cls = f"{school}-8a1", f"{school}-7a1"
    engines = {service: make_engine(url, pool_size=1) for service, url in urls.items()}
    now = datetime.now(UTC)
    with engines["gradebook"].begin() as db:
        db.execute(
            insert(gb.schools).values(
                id=school, name="Trường THCS Lưu Trữ", level="lower_secondary", current_year=YEAR
            )
        )
        db.execute(insert(gb.teachers), [{"id": t, "school_id": school, "full_name": n} for t, n in teachers])
        db.execute(
            insert(gb.students),
            [
                {
                    "id": s,
                    "school_id": school,
                    "full_name": n,
                    "gender": "nu",
                    "birth_date": date(2012, 3, 4 + i),
                    "personal_id_enc": bytes([i]) * 40,
                    "personal_id_hash": _sha(s.encode()),
                }
                for i, (s, n) in enumerate(students)
            ],
        )
        for class_id, year in ((cls, YEAR), (old_cls, OTHER_YEAR)):
            db.execute(
                insert(gb.classes).values(
                    id=class_id,
                    school_id=school,
                    school_year=year,
                    name=class_id[-3:],
                    grade=8,
                    homeroom_teacher_id=teachers[1][0],
                )
            )
            db.execute(insert(gb.enrolments), [{"class_id": class_id, "student_id": s} for s, _ in students])
            db.execute(
                insert(gb.assignments).values(
                    class_id=class_id, subject_code="toan", teacher_id=teachers[0][0]
                )
            )
            db.execute(
                insert(gb.marks),
                [
                    {
                        "class_id": class_id,
                        "student_id": s,
                        "subject_code": "toan",
                        "term": term,
                        "entry": {"regular": ["8", "7.5"], "midterm": "7", "final": "8.5"},
                        "updated_by": teachers[0][0],
                    }
                    for s, _ in students
                    for term in ("hk1", "hk2")
                ],
            )
            db.execute(
                insert(gb.student_terms),
                [
                    {
                        "class_id": class_id,
                        "student_id": s,
                        "term": "hk1",
                        "record": {"conduct": "Tốt", "absences": 1},
                        "updated_by": teachers[1][0],
                    }
                    for s, _ in students
                ],
            )
            db.execute(
                insert(gb.term_locks).values(
                    school_id=school,
                    class_id=class_id,
                    school_year=year,
                    term="hk1",
                    locked_by="principal",
                    locked_at=now,
                )
            )
        db.execute(
            insert(gb.amendments).values(
                id=f"{school}-am-1",
                school_id=school,
                class_id=cls,
                student_id=students[0][0],
                subject_code=None,
                term="hk1",
                before=None,  # SQL NULL, which a careless restore turns into JSON null
                after={"conduct": "Khá"},
                reason="Nhập nhầm",
                status="approved",
                proposed_by=teachers[1][0],
                proposed_at=now,
                decided_by="principal",
                decided_at=now,
            )
        )
        db.execute(
            insert(gb.exemptions).values(
                id=f"{school}-mh-1",
                school_id=school,
                class_id=cls,
                student_id=students[1][0],
                subject_code="toan",
                period="hk1",
                reason="Quyết định miễn học của hiệu trưởng",
                decided_by="principal",
                decided_at=now,
            )
        )
        db.execute(
            insert(gb.awards).values(
                id=f"{school}-kt-1",
                school_id=school,
                class_id=cls,
                student_id=students[0][0],
                kind="gioi",
                reason="Quyết định khen thưởng của hiệu trưởng",
                decided_by="principal",
                decided_at=now,
            )
        )
        db.execute(
            insert(gb.individual_plans).values(
                id=f"{school}-kh-1",
                school_id=school,
                class_id=cls,
                student_id=students[0][0],
                subjects=["toan"],
                reason="Quyết định phê duyệt kế hoạch giáo dục cá nhân của hiệu trưởng",
                decided_by="principal",
                decided_at=now,
            )
        )
        carried = {
            "school_id": school,
            "term": "hk1",
            "from_school_id": "thcs-tran-phu",
            "from_school_name": "Trường THCS Trần Phú",
            "subjects": {"toan": "7.4"},
            "conduct": "Khá",
            "absences": 2,
        }
        db.execute(
            insert(gb.carried_terms).values(
                class_id=cls,
                student_id=students[1][0],
                source="Hồ sơ chuyển trường",
                recorded_by="van-thu",
                recorded_at=now,
                **carried,
            )
        )
        db.execute(
            insert(gb.handed_over_terms).values(
                transcript_id=f"{school}-hb-chuyen",
                school_year=YEAR,
                moet_code="7712345678",
                locked_at=now,
                received_at=now,
                **carried,
            )
        )
    year_record_id = f"{school}-yr-1"
    with engines["transcript"].begin() as db:
        db.execute(
            insert(tr.documents),
            [
                {"sha256": _sha(c), "media_type": m, "size": len(c), "content": c}
                for c, m in ((record_xml, "application/xml"), (signed.stages[0], "application/pdf"))
            ],
        )
        db.execute(
            insert(tr.transcripts).values(
                id=f"{school}-hb-1",
                school_id=school,
                student_id=students[0][0],
                level="lower_secondary",
                lookup_code=uuid.uuid4().hex,
            )
        )
        db.execute(
            insert(tr.year_records).values(
                id=year_record_id,
                transcript_id=f"{school}-hb-1",
                school_id=school,
                class_id=cls,
                school_year=YEAR,
                version=1,
                status="sealed",
                content_hash="0" * 64,
                xml_sha256=_sha(record_xml),
                pdf_sha256=_sha(signed.stages[0]),
                signature_plan=[{"order": s.order, "role": s.role} for s in signed.plan.steps],
                header={"class_name": "8A1"},
            )
        )
        db.execute(
            insert(tr.handovers).values(
                transcript_id=f"{school}-hb-1",
                to_school=f"{school}-moi",
                moet_code="0123456789",
                school_year=YEAR,
                previous_record_sha256=_sha(pdf),
            )
        )
    with engines["signing"].begin() as db:
        db.execute(
            insert(sg.documents),
            [
                {"sha256": _sha(c), "media_type": m, "size": len(c), "content": c}
                for c, m in (
                    (pdf, "application/pdf"),
                    (package, "application/xml"),
                    (record_xml, "application/xml"),
                )
            ],
        )
        db.execute(
            insert(sg.records).values(
                year_record_id=year_record_id,
                school_id=school,
                class_id=cls,
                student_id=students[0][0],
                transcript_id=f"{school}-hb-1",
                school_year=YEAR,
                grade=8,
                version=1,
                lookup_code=uuid.uuid4().hex,
                status="sealed",
                next_order=len(signed.plan.steps) + 1,
                pdf=pdf,
                xml_package=package,
                record_xml_sha256=_sha(record_xml),
                pdf_sha256=_sha(pdf),
                xml_sha256=_sha(package),
                sealed_at=now,
            )
        )
        db.execute(
            insert(sg.steps),
            [
                {
                    "year_record_id": year_record_id,
                    "step_order": s.order,
                    "role": s.role,
                    "field_name": s.field_name,
                    "signer_id": s.signer_id,
                    "signer_name": s.signer_name,
                    "covers": list(s.covers),
                    "on_behalf_of": s.on_behalf_of,
                    "signed_at": now,
                }
                for s in signed.plan.steps
            ],
        )
        last = signed.plan.steps[-1]
        db.execute(
            insert(sg.pending).values(  # a half-done deferred signature: its prepared PDF travels as a blob
                id=uuid.uuid4(),
                batch_id=uuid.uuid4(),
                year_record_id=year_record_id,
                step_order=last.order,
                signer_id=last.signer_id,
                certificate=pki.certificate("principal").dump(),
                prepared_pdf=signed.stages[1],
                document_digest=b"\x01" * 32,
                region_start=100,
                region_end=200,
                signed_attributes=b"\x30\x00",
                xml_package=package,
                xml_signature_id="sig-seal",
                xml_signed_info=b"<SignedInfo/>",
            )
        )
        certificate = pki.certificate("teacher-a")
        db.execute(
            insert(sg.certificates).values(
                signer_id=signed.plan.steps[0].signer_id,
                school_id=None,
                certificate=certificate.dump(),
                chain=[],
                subject=certificate.subject.human_friendly,
                not_after=certificate.not_valid_after,
            )
        )
    with engines["sync"].begin() as db:
        db.execute(
            insert(sy.submissions).values(
                year_record_id=year_record_id,
                school_id=school,
                class_id=cls,
                student_id=students[0][0],
                transcript_id=f"{school}-hb-1",
                school_year=YEAR,
                grade=8,
                version=1,
                assessment="regular",
                lookup_code=uuid.uuid4().hex,
                pdf_sha256=_sha(pdf),
                xml_sha256=_sha(record_xml),
                status="accepted",
                operation="submit",
                idempotency_key=f"{school}-submit-1",
                gateway_record_id="gw-1",
            )
        )
        db.execute(insert(sy.credentials).values(school_id=school, token_enc=b"secret-token-ciphertext"))
    new_session = sessionmaker(engines["audit"])
    for n in range(5):
        event = AuditRecordedV1(
            service="gradebook",
            school_id=school,
            actor_id=teachers[0][0],
            actor_role="teacher",
            action="marks.record",
            entity_type="marks",
            entity_id=f"class/{cls}/student/{students[0][0]}/toan/hk1",
            changes={"final": f"{n} → {n + 1}"},
            occurred_at=now + timedelta(seconds=n),
        )
        assert handle_once(
            Envelope.wrap(event, source_service="gradebook"),
            audit_handlers.CONSUMER,
            partial(AuditUnitOfWork, new_session),
            partial(audit_handlers.record, source="gradebook", vault=DataVault.from_settings()),
        )
        if n == 2:
            assert take_checkpoints(new_session, TSA, school) == 1
    for engine in engines.values():
        engine.dispose()
    return {"pdf": pdf, "package": package, "student": students[0][0], "year_record_id": year_record_id}


def _rows(urls: dict[str, str], school: str) -> dict[str, dict[str, list[dict]]]:
    rows = {}
    for service, store in archive._stores().items():
        engine = make_engine(urls[service], pool_size=1)
        with sessionmaker(engine)() as session:
            rows[service] = store.rows_for(session, school, YEAR)
        engine.dispose()
    return rows


def _counts(urls: dict[str, str]) -> dict[str, int]:
    """Rows in every table of every service: what "nothing written" is checked against."""
    counts = {}
    for service, url in urls.items():
        engine = make_engine(url, pool_size=1)
        with engine.connect() as db:
            names = db.execute(text("select tablename from pg_tables where schemaname = 'public'")).scalars()
            for name in names:
                counts[f"{service}.{name}"] = db.execute(text(f'select count(*) from "{name}"')).scalar_one()
        engine.dispose()
    return counts


@pytest.fixture(scope="module")
def restore_databases(service_databases) -> dict[str, str]:
    """A second, empty deployment: `<name>_restore` databases migrated with each service's real history."""
    urls = {}
    for service, url in service_databases.items():
        target = make_url(url).set(database=make_url(url).database + "_restore")
        urls[service] = target.render_as_string(hide_password=False)
        drop_database(urls[service])
        upgrade(service, urls[service])
    return urls


@pytest.fixture(scope="module")
def archive_keys():
    """This module's own archive keys, in the environment the CLI's settings read (not the developer's .env)."""
    keys = crypto.generate()
    patch = pytest.MonkeyPatch()
    for name, value in keys.items():
        patch.setenv(name, value)
    get_settings.cache_clear()
    yield keys
    patch.undo()
    get_settings.cache_clear()


def _export_keys(keys: dict[str, str]) -> crypto.ExportKeys:
    return crypto.export_keys(keys["HOCBA_ARCHIVE_RECIPIENT"], keys["HOCBA_ARCHIVE_SIGNING_KEY"])


@pytest.fixture(scope="module")
def exported(service_databases, tmp_path_factory, archive_keys):
    school = f"arch-{uuid.uuid4().hex[:8]}"
    facts = _fill(service_databases, school)
    path = tmp_path_factory.mktemp("archive") / "year.tar.age"
    manifest = archive.write_archive(
        path, school, YEAR, urls=service_databases, timestamper=TSA, keys=_export_keys(archive_keys)
    )
    return school, path, manifest, facts


def _age(path) -> bytes:
    """The age file inside an archive (after the platform's signature)."""
    return path.read_bytes()[len(crypto.MAGIC) + crypto.SIGNATURE_SIZE :]


def _plain(path, keys: dict[str, str]) -> bytes:
    """The tar inside an archive, decrypted as only the custodian can."""
    return pyrage.decrypt(_age(path), [pyrage.x25519.Identity.from_str(keys["HOCBA_ARCHIVE_IDENTITY"])])


def _sign(encrypted: bytes, signing_key: str, out) -> None:
    """An age file signed as ``hocba export`` signs it (with the platform's key, or another one)."""
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(signing_key))
    signature = key.sign(crypto.MAGIC + hashlib.sha256(encrypted).digest())
    out.write_bytes(crypto.MAGIC + signature + encrypted)


def _members(plain: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def _repack(members: dict[str, bytes], keys: dict[str, str], out, signing_key: str | None = None) -> None:
    """Write any tar and encrypt it for the custodian, which anyone holding the (public) recipient key can do; then
    sign the file with ``signing_key``, by default the platform's: the checks inside the archive are tested as if
    the file's signature had been got past (the tests without the platform's key are below)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    recipient = pyrage.x25519.Recipient.from_str(keys["HOCBA_ARCHIVE_RECIPIENT"])
    _sign(
        pyrage.encrypt(buffer.getvalue(), [recipient]), signing_key or keys["HOCBA_ARCHIVE_SIGNING_KEY"], out
    )


@pytest.fixture(scope="module")
def restored(exported, restore_databases):
    school, path, manifest, facts = exported
    patch = pytest.MonkeyPatch()
    patch.setattr(archive, "_urls", lambda: restore_databases)
    result = CliRunner().invoke(app, ["import", str(path)])
    patch.undo()
    return result


def test_a_restored_year_has_the_same_rows_documents_and_a_verified_audit_chain(
    exported, restored, service_databases, restore_databases, tmp_path, archive_keys
):
    school, path, manifest, facts = exported
    assert restored.exit_code == 0, restored.output
    assert f"audit chain {school}: 5 entries, intact" in restored.output

    original, copy = _rows(service_databases, school), _rows(restore_databases, school)
    # The loop below checks every archived table of every service, not whatever the stores happen to return.
    assert set(original) == set(copy) == set(SERVICES)
    for service, tables in original.items():
        assert set(tables) == {table.name for table, _ in archive._stores()[service].TABLES}, service
        for table, rows in tables.items():
            assert rows, f"the test data has no {service}.{table} rows"
            assert copy[service][table] == rows, f"{service}.{table} differs after the restore"
            assert manifest["rows"][service][table] == len(rows)
    # Only the archived year: the other year's class and its rows stayed behind.
    assert {c["school_year"] for c in original["gradebook"]["classes"]} == {YEAR}
    engine = make_engine(restore_databases["gradebook"], pool_size=1)
    with engine.connect() as db:
        assert db.execute(select(func.count()).select_from(gb.classes)).scalar_one() == 1
        assert db.execute(select(gb.amendments.c.before.is_(None))).scalar_one() is True
    engine.dispose()

    with tarfile.open(fileobj=io.BytesIO(_plain(path, archive_keys))) as tar:
        names = tar.getnames()
        pdf = tar.extractfile(f"documents/{facts['student']}-{YEAR}.pdf").read()
        package = tar.extractfile(f"documents/{facts['student']}-{YEAR}.signed.xml").read()
        audit_file = tar.extractfile(manifest["audit"]).read()
        dumped = b"".join(tar.extractfile(n).read() for n in names if n.startswith("tables/"))
    assert pdf == facts["pdf"] and package == facts["package"]
    assert not any("credentials" in name for name in names) and b"secret-token" not in dumped
    (tmp_path / "audit.jsonl").write_bytes(audit_file)
    verified = CliRunner().invoke(app, ["audit", "verify", "--file", str(tmp_path / "audit.jsonl")])
    assert verified.exit_code == 0, verified.output

    engine = make_engine(restore_databases["signing"], pool_size=1)
    with engine.connect() as db:
        stored = db.execute(select(sg.documents.c.content).where(sg.documents.c.sha256 == _sha(facts["pdf"])))
        assert bytes(stored.scalar_one()) == facts["pdf"]
    engine.dispose()
    engine = make_engine(restore_databases["audit"], pool_size=1)
    with (
        engine.connect() as db
    ):  # the sequence moved past the restored entries: the next one does not collide
        last = db.execute(text("select last_value from audit_entries_seq_seq")).scalar_one()
        assert last == max(r["seq"] for r in original["audit"]["audit_entries"])
    engine.dispose()
    check = CliRunner().invoke(app, ["audit", "verify", "--school", school])
    assert check.exit_code == 0  # the original deployment's chain is untouched by the export


def test_importing_a_year_the_deployment_already_holds_is_refused_and_writes_nothing(
    exported, restored, service_databases, restore_databases
):
    school, path, _, _ = exported
    assert restored.exit_code == 0, restored.output
    for urls in (restore_databases, service_databases):  # imported once before; the original deployment
        before = _counts(urls)
        patch = pytest.MonkeyPatch()
        patch.setattr(archive, "_urls", lambda urls=urls: urls)
        result = CliRunner().invoke(app, ["import", str(path)])
        patch.undo()
        assert result.exit_code == 1
        assert (
            "nothing written" in result.output
            and f"gradebook already holds classes of {school}" in result.output
        )
        assert _counts(urls) == before


def _import(path) -> object:
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 1, result.output
    return result


def test_the_archive_file_is_encrypted_and_readable_by_its_owner_only(exported, archive_keys, tmp_path):
    school, path, _, facts = exported
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert content.startswith(crypto.MAGIC) and _age(path).startswith(b"age-encryption.org/v1\n")
    assert not tarfile.is_tarfile(path)
    assert school.encode() not in content and facts["pdf"][:200] not in content
    # Also over a file that existed, world-readable, before: O_CREAT alone would keep its mode.
    existing = tmp_path / "existing.tar.age"
    existing.write_bytes(b"old")
    existing.chmod(0o644)
    crypto.seal_to(existing, io.BytesIO(b"plain"), _export_keys(archive_keys))
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600 and existing.read_bytes() != b"old"


@pytest.mark.parametrize("where", ["signature", "age header", "first chunk", "middle", "last byte"])
def test_a_flipped_byte_anywhere_in_the_file_is_refused_before_decrypting(exported, tmp_path, where):
    _, path, _, _ = exported
    data = bytearray(path.read_bytes())
    age = len(crypto.MAGIC) + crypto.SIGNATURE_SIZE
    header_end = (
        data.index(b"\n---") + 80
    )  # past the header's MAC line and the 16-byte nonce: the first chunk
    offset = {"signature": len(crypto.MAGIC) + 5, "age header": age + 30, "first chunk": header_end}
    offset |= {"middle": len(data) // 2, "last byte": len(data) - 1}
    data[offset[where]] ^= 0x01
    tampered = tmp_path / "tampered.tar.age"
    tampered.write_bytes(bytes(data))
    assert "refused before decrypting" in _import(tampered).output


def test_an_archive_encrypted_to_another_custodian_is_refused(exported, archive_keys, tmp_path):
    _, path, _, _ = exported
    other = pyrage.x25519.Identity.generate().to_public()
    elsewhere = tmp_path / "elsewhere.tar.age"
    _sign(
        pyrage.encrypt(_plain(path, archive_keys), [other]),
        archive_keys["HOCBA_ARCHIVE_SIGNING_KEY"],
        elsewhere,
    )
    assert "cannot be decrypted" in _import(elsewhere).output


@pytest.mark.parametrize("signed", ["unsigned", "another key's signature", "the age file alone"])
def test_a_file_not_signed_by_the_platform_is_neither_decrypted_nor_untarred(
    exported, archive_keys, tmp_path, monkeypatch, signed
):
    """Anyone can encrypt a tar (a bomb, a hostile header) to the custodian: without the platform's signature on the
    file, import reads nothing of it."""
    _, path, _, _ = exported
    encrypted = pyrage.encrypt(
        _plain(path, archive_keys),
        [pyrage.x25519.Recipient.from_str(archive_keys["HOCBA_ARCHIVE_RECIPIENT"])],
    )
    hostile = tmp_path / "hostile.tar.age"
    if signed == "unsigned":
        hostile.write_bytes(crypto.MAGIC + bytes(crypto.SIGNATURE_SIZE) + encrypted)
    elif signed == "another key's signature":
        other = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
        _sign(encrypted, other, hostile)
    else:
        hostile.write_bytes(encrypted)

    def untouchable(*args, **kwargs):
        raise AssertionError("read before the file's signature was checked")

    monkeypatch.setattr(crypto, "decrypt_from", untouchable)
    monkeypatch.setattr(pyrage, "decrypt_io", untouchable)
    monkeypatch.setattr(tarfile, "open", untouchable)
    output = _import(hostile).output
    assert "refused before decrypting" in output and "AssertionError" not in output


@pytest.mark.parametrize(
    ("member", "named"),
    [
        ("tables/gradebook/marks.jsonl", "tables/gradebook/marks.jsonl does not match"),
        ("DOCUMENT", "does not match its sha256"),
        ("manifest.json", "manifest.json does not carry the platform's signature"),
    ],
)
def test_a_file_altered_inside_and_re_encrypted_is_refused_naming_it(
    exported, archive_keys, tmp_path, member, named
):
    school, path, manifest, facts = exported
    member = manifest["documents"][0]["pdf"] if member == "DOCUMENT" else member
    members = _members(_plain(path, archive_keys))
    altered = bytearray(members[member])
    altered[10] ^= 0x01
    members[member] = bytes(altered)
    tampered = tmp_path / "tampered.tar.age"
    _repack(members, archive_keys, tampered)
    result = _import(tampered)
    assert named in result.output and (member in result.output)


@pytest.mark.parametrize("signature", ["the platform's, kept", "another key's"])
def test_an_edited_manifest_with_a_fresh_timestamp_is_refused(
    exported, archive_keys, service_databases, tmp_path, signature
):
    """The edit a timestamp alone let through: change a table, fix its hash in the manifest, timestamp anew."""
    _, path, _, _ = exported
    members = _members(_plain(path, archive_keys))
    marks = fmt.table_file("gradebook", "marks")
    members[marks] = members[marks].replace(b'"8.5"', b'"9.5"')
    assert members[marks] != _members(_plain(path, archive_keys))[marks]
    manifest = json.loads(members[fmt.MANIFEST])
    manifest["files"][marks] = {"sha256": _sha(members[marks]), "size": len(members[marks])}
    members[fmt.MANIFEST] = (
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    ).encode()
    if signature == "another key's":
        members[fmt.MANIFEST_SIGNATURE] = Ed25519PrivateKey.generate().sign(members[fmt.MANIFEST])
    # A genuine token from the timestamp authority, which anyone can obtain, over what is now in the archive.
    members[fmt.MANIFEST_TOKEN] = timestamp(TSA, hashlib.sha256(members[fmt.MANIFEST_SIGNATURE]).digest())
    tampered = tmp_path / "edited.tar.age"
    _repack(members, archive_keys, tampered)
    before = _counts(service_databases)
    assert "manifest.json does not carry the platform's signature" in _import(tampered).output
    assert _counts(service_databases) == before


def test_the_untouched_archive_repacked_still_passes_the_checks(exported, archive_keys, tmp_path):
    """The refusals above are for the edits, not for the repacking the tests do."""
    _, path, manifest, _ = exported
    repacked = tmp_path / "repacked.tar.age"
    _repack(_members(_plain(path, archive_keys)), archive_keys, repacked)
    keys = crypto.import_keys(
        archive_keys["HOCBA_ARCHIVE_IDENTITY"], archive_keys["HOCBA_ARCHIVE_VERIFY_KEY"]
    )
    opened = archive.open_archive(repacked, load_certificates(get_settings().trust_roots), keys)
    opened.close()
    assert opened.manifest == manifest


def test_import_without_the_archive_keys_configured_is_refused(exported, monkeypatch):
    _, path, _, _ = exported
    monkeypatch.setenv("HOCBA_ARCHIVE_IDENTITY", "")  # empty, not unset: a developer's .env would fill it in
    get_settings.cache_clear()
    try:
        assert "HOCBA_ARCHIVE_IDENTITY" in _import(path).output
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_every_table_is_archived_but_the_runtime_ones_and_the_gateway_secrets():
    from services.audit.store.tables import metadata as audit_md
    from services.gradebook.store.tables import metadata as gradebook_md
    from services.signing.store.tables import metadata as signing_md
    from services.sync.store.tables import metadata as sync_md
    from services.transcript.store.tables import metadata as transcript_md

    left_out = {"outbox", "inbox", "gateway_credentials", "audit_chain_heads"}  # heads are rebuilt on restore
    # A transfer request belongs to no school year (it moves a học bạ of every year); each step of it is an audit
    # entry of both schools, and the audit log is archived.
    left_out.add("transfer_requests")
    # Transcript's copies of gradebook's amendments guard a replay of the year's lock while the year is live; the
    # amendments themselves are archived by gradebook (services/transcript/store/archive.py).
    left_out_of = {"transcript": {"amendments"}}
    metadata = {
        "gradebook": gradebook_md,
        "transcript": transcript_md,
        "signing": signing_md,
        "sync": sync_md,
        "audit": audit_md,
    }
    assert set(archive._stores()) == set(metadata)  # the loop covers all five services
    for service, store in archive._stores().items():
        archived = {table.name for table, _ in store.TABLES}
        assert archived == set(metadata[service].tables) - left_out - left_out_of.get(service, set()), service


def test_an_audit_chain_already_here_is_extended_only_when_it_is_the_same(
    exported, restored, restore_databases
):
    from services.audit.store import archive as audit_archive

    school, _, _, _ = exported
    assert restored.exit_code == 0, restored.output
    rows = _rows(restore_databases, school)["audit"]
    engine = make_engine(restore_databases["audit"], pool_size=1)
    with sessionmaker(engine)() as session:
        earlier = {"audit_entries": rows["audit_entries"][:3], "audit_checkpoints": []}
        assert audit_archive.conflicts(session, earlier) == []  # an earlier year's archive: already here
        assert audit_archive.restore(session, earlier)["audit_entries"] == 0
        forged = [dict(e) for e in rows["audit_entries"]]
        forged[1]["entry_hash"] = "f" * 64
        assert audit_archive.conflicts(session, {"audit_entries": forged}) == [
            f"audit chain {school} here differs from the archive from entry 2"
        ]
        session.rollback()
    engine.dispose()
