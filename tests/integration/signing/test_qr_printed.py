"""The sealed QR on a printed page: signed by the school's QR key in the HSM, read off the page image, checked offline."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sandbox.pki as pki
from cli.main import app
from services.runtime.settings import get_settings
from services.signing.adapters.hsm import SealKeys
from services.signing.adapters.sealer import QrSealer
from services.signing.documents import pdf as pdf_doc
from services.signing.documents import qr_stamp
from services.signing.verifier import verify
from tests.helpers import needs_tools
from tests.integration.signing.records import SCHOOL, documents
from tests.integration.signing.signed import sign_package, sign_steps

pytestmark = needs_tools("pdftoppm", "zbarimg", install="make setup installs poppler-utils, zbar-tools")
DPI = 300  # a 61-module QR in 17 mm: 3.5 pixels a module at 300 dpi, what a phone's camera gives of the paper
# The footer's QR square and some margin around it, in pixels at DPI (A4: 2480 × 3508).
CROP = ("-x", "2040", "-y", "3230", "-W", "330", "-H", "278")


@functools.cache
def keys() -> SealKeys:
    hsm = SealKeys(get_settings(), (pki.issuing_ca(),))
    school_id, name = SCHOOL
    hsm.provision_qr(school_id, lambda public: pki.issue_qr(public, school_id=school_id, school_name=name))
    return hsm


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A record stamped with its QR summary as signing registers it, then signed by every person and sealed."""
    xml, pdf, plan = documents()
    text = QrSealer(keys()).summary_text(SCHOOL[0], xml)
    assert text is not None
    pdf = sign_steps(
        pdf_doc.add_signature_fields(qr_stamp.stamp(pdf, text), plan), plan, [s.order for s in plan.steps]
    )
    folder = tmp_path_factory.mktemp("qr")
    (folder / "sealed.pdf").write_bytes(pdf)
    (folder / "sealed.xml").write_bytes(sign_package(xml, plan))
    (folder / "qr.txt").write_text(text)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", "1", "-l", "1", *CROP, "-png", "-singlefile", str(folder / "sealed.pdf"),
         str(folder / "page")],
        check=True,
    )  # fmt: skip
    return {
        "pdf": folder / "sealed.pdf",
        "xml": folder / "sealed.xml",
        "png": folder / "page.png",
        "dir": folder,
    }


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(map(str, args)))
    return result.exit_code, result.output


def trust_list(folder: Path, *more: str) -> Path:
    out = folder / f"trust-list{len(more)}.json"
    code, output = run("qr", "trust-list", "--out", out, *more)
    assert code == 0, output
    assert "signature valid" in output and SCHOOL[0] in output
    return out


def test_the_sealed_page_still_verifies_with_the_qr_drawn_before_the_first_signature(sealed):
    report = verify(sealed["pdf"].read_bytes(), sealed["xml"].read_bytes(), trust_roots=[pki.root()])
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]


def test_the_qr_read_off_the_printed_page_verifies_offline(sealed):
    listed = trust_list(sealed["dir"])
    code, output = run("verify", "qr", sealed["png"], "--trust-list", listed)
    assert code == 0, output
    assert "HỢP LỆ" in output and "verdict: VALID" in output
    assert "Học sinh: Phạm Thị Ngọc Ánh" in output and "Năm học 2025-2026, lớp 8A1" in output
    assert "0123456789" not in output and "2011-07-13" not in output  # no personal ID, no birth date


def test_a_changed_character_or_a_revoked_school_fails_with_its_reason(sealed):
    text = sealed["dir"].joinpath("qr.txt").read_text()
    listed = trust_list(sealed["dir"])
    changed = text[:200] + ("A" if text[200] != "A" else "B") + text[201:]
    code, output = run("verify", "qr", changed, "--trust-list", listed)
    assert code == 1 and "KHÔNG HỢP LỆ" in output, output
    revoked = trust_list(sealed["dir"], "--revoke", f"{SCHOOL[0]}=khóa bị lộ")
    code, output = run("verify", "qr", sealed["png"], "--trust-list", revoked)
    assert code == 1 and "verdict: REVOKED" in output and "khóa bị lộ" in output, output
