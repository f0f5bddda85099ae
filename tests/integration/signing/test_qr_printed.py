"""The sealed QR on a printed page: signed by the school's QR key in the HSM, read off the page image, checked offline."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageFilter
from pypdf import PdfReader
from typer.testing import CliRunner

import sandbox.pki as pki
from cli.main import app
from services.runtime.settings import get_settings
from services.signing.adapters.hsm import SealKeys
from services.signing.adapters.sealer import FakeQrSealer, QrSealer
from services.signing.documents import pdf as pdf_doc
from services.signing.documents import qr_stamp
from services.signing.verifier import verify
from tests.helpers import needs_tools
from tests.integration.signing.records import SCHOOL, documents
from tests.integration.signing.signed import sign_package, sign_steps

pytestmark = needs_tools("pdftoppm", "zbarimg", install="make setup installs poppler-utils, zbar-tools")
DPI = 300  # a 61-module QR in 17 mm: 3.5 pixels a module at 300 dpi, what a phone's camera gives of the paper
# The footer's QR square and some margin around it, in pixels at DPI (A4: 2480 × 3508).
CROP = ("-x", "2040", "-y", "3195", "-W", "330", "-H", "278")


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


REVOKED_SCHOOL = ("s-da-thu-hoi", "Trường THCS Đã Thu Hồi")


def software_sealer(school: tuple[str, str]) -> tuple[FakeQrSealer, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_qr(key.public_key(), school_id=school[0], school_name=school[1])
    return FakeQrSealer(key, certificate.dump()), certificate.dump()


@pytest.fixture(scope="module")
def listed(sealed) -> Path:
    """The province's list: the HSM's QR certificates (ours valid) and another school's, revoked."""
    folder = sealed["dir"]
    _, revoked_der = REVOKED
    (folder / "revoked.der").write_bytes(revoked_der)
    out = folder / "trust-list.json"
    code, output = run(
        "qr", "trust-list", "--out", out, "--certificate", folder / "revoked.der",
        "--revoke", f"{REVOKED_SCHOOL[0]}=khóa bị lộ",
    )  # fmt: skip
    assert code == 0, output
    assert "signature valid" in output and SCHOOL[0] in output and "REVOKED" in output
    return out


REVOKED = software_sealer(REVOKED_SCHOOL)


@pytest.fixture(scope="module")
def payloads(sealed) -> dict[str, str]:
    """The QR as read off the page, and the three that must fail."""
    read = subprocess.run(["zbarimg", "--raw", "-q", str(sealed["png"])], capture_output=True, text=True)
    text = read.stdout.strip()
    assert text == sealed["dir"].joinpath("qr.txt").read_text()
    xml = documents()[0]
    stranger, _ = software_sealer(SCHOOL)
    return {
        "printed": text,
        "changed": text[:200] + ("A" if text[200] != "A" else "B") + text[201:],
        "unknown": stranger.summary_text(SCHOOL[0], xml) or "",
        "revoked": REVOKED[0].summary_text(REVOKED_SCHOOL[0], xml) or "",
    }


def test_the_sealed_page_still_verifies_with_the_qr_drawn_before_the_first_signature(sealed):
    report = verify(sealed["pdf"].read_bytes(), sealed["xml"].read_bytes(), trust_roots=[pki.root()])
    assert report.passed, [(c.name, c.detail) for c in report.checks if not c.passed]
    # PDF/A-3B for the drawn QR: an opaque grey image, no soft mask (transparency)
    for page in PdfReader(sealed["pdf"]).pages:
        image = page["/Resources"]["/XObject"]["/HbSealedQr"].get_object()
        assert image["/ColorSpace"] == "/DeviceGray" and "/SMask" not in image


def test_nothing_is_printed_within_5_mm_of_the_paper_s_edge(sealed):
    """Office printers leave 4–5 mm at each edge unprinted: the sealed QR and the footer must be inside that."""
    from PIL import Image, ImageOps

    dpi = 100
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile", "-png", str(sealed["pdf"]), str(sealed["dir"] / "whole")],
        check=True,
    )  # fmt: skip
    page = Image.open(sealed["dir"] / "whole.png")
    left, top, right, bottom = ImageOps.invert(page.point(lambda v: 255 if v > 200 else 0)).getbbox()
    width, height = page.size
    margins_mm = [edge * 25.4 / dpi for edge in (left, top, width - right, height - bottom)]
    assert min(margins_mm) >= 5.0, margins_mm  # left, top, right, bottom
    assert margins_mm[3] < 6.0, margins_mm  # the QR sits on the 5 mm line: the test measures what it should


def test_the_qr_read_off_the_printed_page_verifies_offline(sealed, listed):
    code, output = run("verify", "qr", sealed["png"], "--trust-list", listed)
    assert code == 0, output
    assert (
        output.startswith("HỢP LỆ: tóm tắt học bạ do Trường THCS Thử Nghiệm ký")
        and "verdict: VALID" in output
    )
    assert "Học sinh: Phạm Thị Ngọc Ánh" in output and "Năm học 2025-2026, lớp 8A1" in output
    assert "0123456789" not in output and "2011-07-13" not in output  # no personal ID, no birth date


@pytest.mark.parametrize(
    ("case", "codes", "reason"),
    [
        ("changed", ("MALFORMED", "BAD_SIGNATURE"), "KHÔNG HỢP LỆ"),
        ("unknown", ("UNKNOWN_KEY",), "không có trong danh sách tin cậy"),
        ("revoked", ("REVOKED",), "đã bị thu hồi từ"),
    ],
)
def test_a_changed_unknown_key_or_revoked_payload_fails_with_its_reason(
    payloads, listed, case, codes, reason
):
    code, output = run("verify", "qr", payloads[case], "--trust-list", listed, "--json")
    assert code == 1, output
    [verdict] = json.loads(output)
    assert verdict["code"] in codes and reason in verdict["message"], verdict


@needs_tools("/usr/bin/chromium", install="make setup installs chromium")
def test_the_offline_page_gives_the_same_verdicts_in_chromium_with_the_network_cut(sealed, listed, payloads):
    page = sealed["dir"] / "kiem-tra-qr.html"
    code, output = run("qr", "page", "--out", page, "--trust-list", listed)
    assert code == 0, output
    cases = ["printed", "changed", "unknown", "revoked"]
    (sealed["dir"] / "payloads.json").write_text(json.dumps([payloads[c] for c in cases]))
    # Photos too: the printed QR as a phone's close-up gives it (held askew, a little out of focus, JPEG), and one
    # with no QR in it. Debian's chromium has no BarcodeDetector, so the page reads them with its jsQR, as an
    # iPhone's browser would.
    photo, blank = sealed["dir"] / "photo.jpg", sealed["dir"] / "no-qr.png"
    scale = 4  # 1200 dpi: the QR's modules about 13 pixels, as a phone 10 cm from the paper sees them
    subprocess.run(
        ["pdftoppm", "-r", str(DPI * scale), "-f", "1", "-l", "1",
         *(str(int(v) * scale) if v.isdigit() else v for v in CROP), "-png", "-singlefile", str(sealed["pdf"]),
         str(sealed["dir"] / "close-up")],
        check=True,
    )  # fmt: skip
    close_up = Image.open(sealed["dir"] / "close-up.png").convert("RGB")
    askew = close_up.rotate(8, expand=True, fillcolor=(235, 235, 235)).filter(ImageFilter.GaussianBlur(2))
    askew.save(photo, quality=80)
    Image.new("L", (400, 300), 255).save(blank)
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.signing.qr_browser", str(page), str(sealed["dir"] / "payloads.json"),
         str(photo), str(blank)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    # the HSM's QR certificates (every school provisioned in this token so far) and the revoked one
    assert shown["requests"] == [] and "(bản kèm trang)" in shown["trust"], shown["trust"]
    printed, changed, unknown, revoked = shown["verdicts"]
    assert printed["code"] == "VALID" and printed["message"].startswith("HỢP LỆ"), printed
    assert "Phạm Thị Ngọc Ánh" in printed["summary"] and "Khá" in printed["summary"]
    assert changed["code"] in ("MALFORMED", "BAD_SIGNATURE")
    assert unknown["code"] == "UNKNOWN_KEY" and "không có trong danh sách tin cậy" in unknown["message"]
    assert revoked["code"] == "REVOKED" and "khóa bị lộ" in revoked["message"]
    photographed, blank_photo = shown["photos"]
    assert photographed["code"] == "VALID" and photographed["payload"] == payloads["printed"], photographed
    assert "Phạm Thị Ngọc Ánh" in photographed["summary"]
    assert blank_photo["code"] == "NO_QR" and "Không tìm thấy mã QR trong ảnh" in blank_photo["message"]
