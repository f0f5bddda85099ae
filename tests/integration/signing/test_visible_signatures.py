"""The printed form shows its signatures: each in its box, in Vietnamese, made in its own revision, still PDF/A.

What a principal holding the paper sees is checked with the tools a reader would use: MuPDF's text extraction
(which renders annotations), poppler's pdftoppm and pdfsig, and qpdf.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from typer.testing import CliRunner

from cli.main import app
from services.signing.documents import pdf as pdf_doc
from services.signing.domain.model import Plan
from services.transcript.domain.plan import plan_signatures
from tests.helpers import needs_tools
from tests.integration.signing.records import PRINCIPAL, SCHOOL, TEACHER_A, TEACHER_B, documents, year_record
from tests.integration.signing.signed import identity_for, sign_person, sign_steps, signed_record

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DPI = 100
TOOLS = ("mutool", "pdftoppm", "pdfsig", "qpdf")
pytestmark = needs_tools(*TOOLS, install="make setup installs mupdf-tools, poppler-utils, qpdf")


def mupdf_text(pdf: bytes, tmp: Path) -> str:
    """The text a reader of the printout sees, signature appearances included."""
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["mutool", "draw", "-q", "-F", "txt", "-o", "-", str(path)], capture_output=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def field_rects(pdf: bytes) -> dict[str, tuple[int, tuple[float, float, float, float]]]:
    """Each signature field's page and /Rect, read from the PDF (the form owns the layout)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    pages = [
        p.idnum
        for p in (
            reader.find_page_for_modification(i)[0] for i in range(int(reader.root["/Pages"]["/Count"]))
        )
    ]
    out = {}
    for name, _value, ref in fields.enumerate_sig_fields(reader, filled_status=None):
        field = ref.get_object()
        if "/Rect" not in field:
            continue
        rect = tuple(float(v) for v in field["/Rect"])
        out[name] = (pages.index(field.raw_get("/P").idnum), (rect[0], rect[1], rect[2], rect[3]))
    return out


def rendered_pages(pdf: bytes, tmp: Path, tag: str) -> list[Image.Image]:
    path = tmp / f"{tag}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(path), str(tmp / tag)], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp.glob(f"{tag}-*.png"))]


def ink(page: Image.Image, rect: tuple[float, float, float, float]) -> int:
    """Dark pixels inside a PDF rectangle (points, origin bottom left) of a page rendered at DPI."""
    scale = DPI / 72
    height = page.height
    box = (
        int(rect[0] * scale) + 1,
        int(height - rect[3] * scale) + 1,
        int(rect[2] * scale) - 1,
        int(height - rect[1] * scale) - 1,
    )
    return sum(page.crop(box).histogram()[:160])


def pdfsig_blocks(pdf: bytes, tmp: Path) -> dict[str, str]:
    path = tmp / "sig.pdf"
    path.write_bytes(pdf)
    # Certificate trust is our verifier's job (the test roots are not in an NSS db); pdfsig checks the bytes.
    done = subprocess.run(["pdfsig", "-nocert", str(path)], capture_output=True, text=True)
    blocks = re.split(r"^Signature #\d+:\n", done.stdout, flags=re.M)[1:]
    named = {}
    for block in blocks:
        found = re.search(r"Signature Field Name: (\S+)", block)
        assert found, block
        named[found.group(1)] = block
    return named


def signing_times(pdf: bytes) -> dict[str, str]:
    """Each signature's own signing time, as the stamp should print it."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {
        s.field_name: s.self_reported_timestamp.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")
        for s in reader.embedded_signatures
        if s.sig_object_type == "/Sig" and s.self_reported_timestamp is not None
    }


def before_first_signature(pdf: bytes) -> bytes:
    """The document as it was before anyone signed: every revision up to the one the first signature opens."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    first = min((s for s in reader.embedded_signatures), key=lambda s: s.signed_revision)
    end = pdf.rfind(b"%%EOF", 0, first.byte_range[1]) + len(b"%%EOF")
    return pdf[:end] + b"\n"


def check_visible_signatures(sealed: bytes, plan: Plan, tmp: Path, unsigned: bytes | None = None) -> None:
    """What the issue asks a sealed record to show; shared with the end-to-end workflow test."""
    unsigned = unsigned if unsigned is not None else before_first_signature(sealed)
    persons = plan.person_steps
    text = mupdf_text(sealed, tmp)
    assert text.count("Ký bởi") == len(persons), text
    assert "Ký bởi" not in mupdf_text(unsigned, tmp)
    times = signing_times(sealed)
    for step in persons:
        assert f"Ký bởi: {step.signer_name}" in text, (step.field_name, text)
        assert f"Ngày ký: {times[step.field_name]}" in text, (step.field_name, text)
    assert f"ĐÓNG DẤU: {plan.seal.signer_name}" in text, text
    assert f"Ngày đóng dấu: {times[plan.seal.field_name]}" in text, text

    rects = field_rects(sealed)
    assert set(rects) >= {s.field_name for s in plan.steps}, rects
    before, after = rendered_pages(unsigned, tmp, "unsigned"), rendered_pages(sealed, tmp, "sealed")
    for step in plan.steps:
        page, rect = rects[step.field_name]
        empty, signed = ink(before[page], rect), ink(after[page], rect)
        assert empty == 0 and signed > 200, (step.field_name, empty, signed)

    blocks = pdfsig_blocks(sealed, tmp)
    for step in plan.steps:
        assert "Signature Validation: Signature is Valid." in blocks[step.field_name], blocks[step.field_name]

    path = tmp / "check.pdf"
    path.write_bytes(sealed)
    check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert check.returncode == 0 and "No syntax or stream encoding errors found" in check.stdout, check
    assert_appearances_plain(sealed, [s.field_name for s in plan.steps])


def _assert_plain_xobject(xobject: generic.StreamObject, name: str, seen: set[int]) -> None:
    """No transparency group, soft mask or graphics state anywhere in an appearance; every font embedded."""
    assert "/Group" not in xobject and "/SMask" not in xobject, name
    resources = xobject.get("/Resources", generic.DictionaryObject())
    assert "/ExtGState" not in resources, name
    for font in resources.get("/Font", generic.DictionaryObject()).values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", [font]):
            descriptor = descendant.get_object()["/FontDescriptor"]
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), name
    for inner in resources.get("/XObject", generic.DictionaryObject()).values():
        inner_obj = inner.get_object()
        if id(inner_obj) not in seen:
            seen.add(id(inner_obj))
            _assert_plain_xobject(inner_obj, name, seen)


def assert_appearances_plain(pdf: bytes, names: Sequence[str]) -> None:
    """PDF/A-3B for the new content: printed, no transparency, every font embedded."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    widgets = {n: ref.get_object() for n, _v, ref in fields.enumerate_sig_fields(reader, filled_status=None)}
    for name in names:
        widget = widgets[name]
        flags = int(widget["/F"])
        assert flags & 4 and not flags & (1 | 2 | 32), (name, flags)  # Print; not Invisible, Hidden, NoView
        _assert_plain_xobject(widget["/AP"]["/N"], name, set())
    metadata = reader.root["/Metadata"].data
    assert b"<pdfaid:part>3</pdfaid:part>" in metadata or b'pdfaid:part="3"' in metadata


def test_a_sealed_record_shows_every_signer_name_and_date_in_its_box(tmp_path: Path) -> None:
    signed = signed_record()
    check_visible_signatures(signed.pdf, signed.plan, tmp_path, signed.stages[0])
    # The workflow test finds the unsigned form in the sealed file itself: the same bytes as stage 0.
    assert before_first_signature(signed.pdf) == signed.stages[0]


def test_each_signature_appears_in_its_own_revision_and_nothing_before_it(tmp_path: Path) -> None:
    signed = signed_record()
    for done, stage in enumerate(signed.stages):
        text = mupdf_text(stage, tmp_path)
        persons = min(done, len(signed.plan.person_steps))
        assert text.count("Ký bởi") == persons, (done, text)
        assert ("ĐÓNG DẤU" in text) == (done == len(signed.plan.steps))
    # The digest covers the box: a person's byte range runs to the end of the revision that drew their stamp.
    reader = PdfFileReader(io.BytesIO(signed.pdf), strict=False)
    sigs = sorted(
        (s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"),
        key=lambda s: s.signed_revision,
    )
    for sig, stage in zip(sigs[:-1], signed.stages[1:-1], strict=True):
        assert sig.byte_range[2] + sig.byte_range[3] == len(stage), sig.field_name


def test_the_verifier_still_passes_the_stamped_record_in_full(tmp_path: Path) -> None:
    signed = signed_record()
    (tmp_path / "r.pdf").write_bytes(signed.pdf)
    (tmp_path / "r.xml").write_bytes(signed.package)
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "r.pdf"), "--xml", str(tmp_path / "r.xml")])
    assert result.exit_code == 0 and "TOTAL_PASSED" in result.output, result.output


def test_a_signature_on_behalf_of_a_departed_teacher_says_so_in_the_box(tmp_path: Path) -> None:
    record = year_record()
    plan = plan_signatures(record.subjects, TEACHER_B, PRINCIPAL, SCHOOL, departed=frozenset({TEACHER_A[0]}))
    _xml, pdf, steps = documents(replace(record, signature_plan=plan))
    unsigned = pdf_doc.add_signature_fields(pdf, steps)
    first = sign_steps(unsigned, steps, [1])
    text = mupdf_text(first, tmp_path)
    assert f"Ký bởi: {PRINCIPAL[1]}" in text and f"ký thay {TEACHER_A[1]}" in text, text
    page, rect = field_rects(first)[steps.step(1).field_name]
    assert ink(rendered_pages(first, tmp_path, "first")[page], rect) > 200


def test_a_name_outside_the_stamp_s_latin_face_is_still_printed_in_full(tmp_path: Path) -> None:
    """The stamp's face is cut to the Latin scripts for speed (stamp_face.py); a name beyond it must not lose a
    letter: a foreign teacher's Cyrillic name is stamped in the full face and reads back whole."""
    _xml, pdf, plan = documents()
    step = replace(plan.step(1), signer_name="Алексей Смирнов")
    signed = sign_person(pdf_doc.add_signature_fields(pdf, plan), step, identity_for(plan.step(1)))
    assert "Ký bởi: Алексей Смирнов" in mupdf_text(signed, tmp_path)
