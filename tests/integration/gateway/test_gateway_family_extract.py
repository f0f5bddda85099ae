"""The family's extract at the portal: the chosen years' sealed records and a manifest the province signs, checked by
`hocba verify extract` (a module of its own: the portal's browser tests keep an event loop that pyHanko's signing
cannot share)."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile

import pytest
from typer.testing import CliRunner

import sandbox.pki as pki
from cli.main import app
from sandbox.gateway.extract import Signer, _signed
from services.signing.documents import pdf as pdf_doc
from services.transcript.documents import pdf_form
from services.transcript.documents import xml_package as package
from tests.integration.gateway.support import set_day, visitor
from tests.integration.signing.records import SCHOOL, documents
from tests.integration.signing.records import year_record as signing_year_record
from tests.integration.signing.signed import sign_steps

pytestmark = pytest.mark.integration


def test_the_family_downloads_a_province_signed_extract_of_the_years_it_chooses(gateway, tmp_path):
    """Two years of one học bạ at the portal; the family asks for this year's: the sealed PDF and the XML as reported,
    and a manifest the province signed, which `hocba verify extract` checks with every signature on the record."""
    code, transcript = uuid.uuid4().hex, f"hb-{uuid.uuid4().hex[:8]}"
    last_year = signing_year_record(
        lookup_code=code, transcript_id=transcript, year_record_id=f"yr-{uuid.uuid4().hex[:8]}",
        school_year="2024-2025", grade=7, class_name="7A1",
    )  # fmt: skip
    this_year = signing_year_record(
        lookup_code=code, transcript_id=transcript, year_record_id=f"yr-{uuid.uuid4().hex[:8]}"
    )
    xml, pdf, plan = documents(this_year)
    sealed = sign_steps(pdf_doc.add_signature_fields(pdf, plan), plan, [s.order for s in plan.steps])
    old_xml = package.build(last_year)
    with gateway.client(SCHOOL[0]) as school:
        set_day(gateway, "2025-05-20")
        body = {"assessment": "regular", "pdf": base64.b64encode(pdf_form.render(old_xml)).decode()}
        submitted = school.post(
            "/api/v1/records",
            json={**body, "xml": base64.b64encode(old_xml).decode()},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert submitted.status_code == 201, submitted.text
        set_day(gateway, "2026-05-20")
        submitted = school.post(
            "/api/v1/records",
            json={"assessment": "regular", "pdf": base64.b64encode(sealed).decode(), "xml": base64.b64encode(xml).decode()},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )  # fmt: skip
        assert submitted.status_code == 201, submitted.text
    url = f"{gateway.url}/hocba/{code}/trich-luc"
    with visitor() as family:
        form = family.get(url)
        wrong = family.post(url, data={"ngay_sinh": "14/07/2011", "nam": "2025-2026"})
        none_chosen = family.post(url, data={"ngay_sinh": "13/07/2011"})
        extract = family.post(url, data={"ngay_sinh": "13/07/2011", "nam": "2025-2026"})
    assert form.status_code == 200 and 'value="2024-2025"' in form.text and 'value="2025-2026"' in form.text
    assert wrong.status_code == 403 and "không khớp" in wrong.text and b"PK" not in wrong.content[:2]
    assert none_chosen.status_code == 400 and "Hãy chọn ít nhất một năm học." in none_chosen.text
    assert extract.status_code == 200 and extract.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(extract.content))
    assert sorted(archive.namelist()) == ["hocba-2025-2026-v1.pdf", "hocba-2025-2026-v1.xml", "manifest.json"]
    assert archive.read("hocba-2025-2026-v1.pdf") == sealed and archive.read("hocba-2025-2026-v1.xml") == xml
    assert code.encode() not in archive.read("manifest.json")  # the manifest carries no lookup code
    saved = tmp_path / "hocba-trich-luc.zip"
    saved.write_bytes(extract.content)
    checked = CliRunner().invoke(app, ["verify", "extract", str(saved)])
    assert checked.exit_code == 0, checked.output
    assert "manifest signed by Sở Giáo dục và Đào tạo (cổng tra cứu học bạ)" in checked.output
    assert "ok   2025-2026 v1 (current)" in checked.output
    # A file changed inside, or a manifest signed by anyone else, is refused.
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(changed, "w") as out:
        for name in archive.namelist():
            content = archive.read(name)
            out.writestr(name, content + b"\n<!-- da sua -->\n" if name.endswith(".xml") else content)
    refused = CliRunner().invoke(app, ["verify", "extract", str(changed)])
    assert refused.exit_code == 1 and "is not the file the province listed" in refused.output, refused.output
    # The same manifest signed by the province's trust-list key: a real province key, but not one for extracts.
    qr = pki.province_qr()
    body = json.loads(base64.b64decode(json.loads(archive.read("manifest.json"))["payload"]))
    wrong_key = tmp_path / "wrong-key.zip"
    with zipfile.ZipFile(wrong_key, "w") as out:
        for name in archive.namelist():
            if name != "manifest.json":
                out.writestr(name, archive.read(name))
        out.writestr(
            "manifest.json", _signed(body, Signer(qr.key, (qr.certificate.dump(), qr.chain[0].dump())))
        )
    refused = CliRunner().invoke(app, ["verify", "extract", str(wrong_key)])
    assert refused.exit_code == 1 and "not certified to sign it" in refused.output, refused.output
    with visitor() as reader:
        listed = reader.post(f"{gateway.url}/hocba/{code}/truy-cap", data={"ngay_sinh": "13/07/2011"})
    assert "Tải bản trích lục (năm học 2025-2026, phiên bản 1)" in listed.text
