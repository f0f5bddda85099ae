"""A school's audit log exported as sealed JSON Lines and checked offline: intact passes; edited, cut or unsealed
files are named."""

import base64
import json

from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

import sandbox.pki as pki
from cli.main import app
from services.audit.app.export import export
from services.audit.domain.export import body_digest
from services.runtime.timestamps import KeptKeyTimeStamper, timestamp
from tests.integration.audit.test_chain import school_log as school_log  # the fixture

TSA = KeptKeyTimeStamper(pki.certificate("tsa"), pki.tsa_key_info())


def check(tmp_path, text: str):
    path = tmp_path / "audit.jsonl"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(app, ["audit", "verify", "--file", str(path)])


def test_an_export_verifies_offline_and_every_kind_of_tampering_is_named(school_log, tmp_path):
    engine, school = school_log
    text = export(sessionmaker(engine), TSA, school)
    lines = text.splitlines()
    assert len(lines) == 7 and json.loads(lines[-1])["to"] == 6
    assert check(tmp_path, text).exit_code == 0

    edited = json.loads(lines[2])
    edited["content"]["actor_id"] = "ke-gian"
    result = check(tmp_path, "\n".join([*lines[:2], json.dumps(edited), *lines[3:]]) + "\n")
    # Rich wraps the message at the console's width, which depends on how long the temporary path is.
    assert result.exit_code == 1 and "broken at 3" in result.output.replace("\n", " ")

    result = check(tmp_path, "\n".join([*lines[:5], lines[6]]) + "\n")  # the last entry cut out
    assert result.exit_code == 1 and "seal" in result.output

    # Rewriting entries and the seal's digest consistently still fails: the timestamp covers the original digest.
    seal = json.loads(lines[-1])
    body = lines[:-1][:-1]
    seal.update({"to": 5, "body_sha256": body_digest(body).hex()})
    result = check(tmp_path, "\n".join([*body, json.dumps(seal)]) + "\n")
    assert result.exit_code == 1 and "timestamp" in result.output

    # A genuine token over the new digest from a TSA we do not trust: refused as well.
    rogue = KeptKeyTimeStamper(pki.certificate("person", "rogue"), pki.key_info("person", "rogue"))
    seal["timestamp"] = base64.b64encode(timestamp(rogue, body_digest(body))).decode()
    result = check(tmp_path, "\n".join([*body, json.dumps(seal)]) + "\n")
    assert result.exit_code == 1

    assert check(tmp_path, "not an export\n").exit_code == 1
