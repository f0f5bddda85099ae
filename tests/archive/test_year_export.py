"""A school year exported with `hocba export` and restored with `hocba import` into fresh databases is the same year:
every table's rows, the sealed documents byte for byte, an audit chain that verifies; tampered or repeated imports are
refused without writing."""

import hashlib
import tarfile
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from pyhanko.sign.timestamps import DummyTimeStamper
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

import sandbox.pki as pki
from cli import archive
from cli.main import app
from contracts.audit import AuditRecordedV1
from contracts.envelope import Envelope
from services.audit.app import handlers as audit_handlers
from services.audit.app.checkpoints import take_checkpoints
from services.audit.app.unit_of_work import AuditUnitOfWork
from services.gradebook.store import tables as gb
from services.runtime.db import drop_database, make_engine
from services.runtime.migrations import upgrade
from services.signing.store import tables as sg
from services.sync.store import tables as sy
from services.transcript.store import tables as tr
from tests.signing.signed import signed_record

pytestmark = pytest.mark.integration

TSA = DummyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())
_today = datetime.now(UTC)
# Audit entries are recorded now, so the archived year is the current one (it runs from 1 August).
YEAR = f"{_today.year - (_today.month < 8)}-{_today.year - (_today.month < 8) + 1}"
OTHER_YEAR = "2019-2020"


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
        assert audit_handlers.record(
            Envelope.wrap(event, source_service="gradebook"), AuditUnitOfWork(new_session)
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
def exported(service_databases, tmp_path_factory):
    school = f"arch-{uuid.uuid4().hex[:8]}"
    facts = _fill(service_databases, school)
    path = tmp_path_factory.mktemp("archive") / "year.tar"
    manifest = archive.write_archive(path, school, YEAR, urls=service_databases, timestamper=TSA)
    return school, path, manifest, facts


@pytest.fixture(scope="module")
def restored(exported, restore_databases):
    school, path, manifest, facts = exported
    patch = pytest.MonkeyPatch()
    patch.setattr(archive, "_urls", lambda: restore_databases)
    result = CliRunner().invoke(app, ["import", str(path)])
    patch.undo()
    return result


def test_a_restored_year_has_the_same_rows_documents_and_a_verified_audit_chain(
    exported, restored, service_databases, restore_databases, tmp_path
):
    school, path, manifest, facts = exported
    assert restored.exit_code == 0, restored.output
    assert f"audit chain {school}: 5 entries, intact" in restored.output

    original, copy = _rows(service_databases, school), _rows(restore_databases, school)
    for service, tables in original.items():
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

    with tarfile.open(path) as tar:
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


def _flip(path, member: str, out) -> None:
    with tarfile.open(path) as tar:
        offset = tar.getmember(member).offset_data
    data = bytearray(path.read_bytes())
    data[offset + 10] ^= 0x01
    out.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("member", "named"),
    [
        ("tables/gradebook/marks.jsonl", "tables/gradebook/marks.jsonl does not match"),
        ("DOCUMENT", "does not match its sha256"),
        ("manifest.json", "manifest.json is not the one its timestamp covers"),
    ],
)
def test_an_archive_with_a_flipped_byte_is_refused_naming_the_file(exported, tmp_path, member, named):
    school, path, manifest, facts = exported
    member = manifest["documents"][0]["pdf"] if member == "DOCUMENT" else member
    tampered = tmp_path / "tampered.tar"
    _flip(path, member, tampered)
    result = CliRunner().invoke(app, ["import", str(tampered)])
    assert result.exit_code == 1
    assert named in result.output and (member in result.output)


def test_every_table_is_archived_but_the_runtime_ones_and_the_gateway_secrets():
    from services.audit.store.tables import metadata as audit_md
    from services.gradebook.store.tables import metadata as gradebook_md
    from services.signing.store.tables import metadata as signing_md
    from services.sync.store.tables import metadata as sync_md
    from services.transcript.store.tables import metadata as transcript_md

    left_out = {"outbox", "inbox", "gateway_credentials", "audit_chain_heads"}  # heads are rebuilt on restore
    metadata = {
        "gradebook": gradebook_md,
        "transcript": transcript_md,
        "signing": signing_md,
        "sync": sync_md,
        "audit": audit_md,
    }
    for service, store in archive._stores().items():
        archived = {table.name for table, _ in store.TABLES}
        assert archived == set(metadata[service].tables) - left_out, service


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
