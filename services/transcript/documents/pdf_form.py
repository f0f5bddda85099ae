"""The year record's printable page: PDF/A-3B rendered from the XML, the XML embedded as its associated file."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import segno
from fpdf import FPDF
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields

from services.transcript.documents.xml_package import NS

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path(__file__).resolve().parent / "fonts")
LEVEL_TITLES = {
    "primary": "TIỂU HỌC",
    "lower_secondary": "TRUNG HỌC CƠ SỞ",
    "upper_secondary": "TRUNG HỌC PHỔ THÔNG",
}
ROLE_TITLES = {
    "subject_teacher": "Giáo viên bộ môn",
    "homeroom_teacher": "Giáo viên chủ nhiệm",
    "principal": "Hiệu trưởng",
    "school_seal": "Dấu của nhà trường",
}
PERIOD_TITLES = {"hk1": "Học kỳ I", "hk2": "Học kỳ II", "year": "Cả năm"}
# TT27 (primary): the five qualities and the core competencies, each Tốt / Đạt / Cần cố gắng.
TRAIT_TITLES = {
    "yeu_nuoc": "Yêu nước",
    "nhan_ai": "Nhân ái",
    "cham_chi": "Chăm chỉ",
    "trung_thuc": "Trung thực",
    "trach_nhiem": "Trách nhiệm",
    "tu_chu_tu_hoc": "Tự chủ và tự học",
    "giao_tiep_hop_tac": "Giao tiếp và hợp tác",
    "giai_quyet_van_de": "Giải quyết vấn đề và sáng tạo",
    "ngon_ngu": "Ngôn ngữ",
    "tinh_toan": "Tính toán",
    "khoa_hoc": "Khoa học",
    "cong_nghe": "Công nghệ",
    "tin_hoc": "Tin học",
    "tham_mi": "Thẩm mĩ",
    "the_chat": "Thể chất",
}
MM = 72 / 25.4  # PDF points per millimetre
TRAIT_LEVELS = {"T": "Tốt", "Đ": "Đạt", "C": "Cần cố gắng"}


class FontMissing(RuntimeError):
    """Vietnamese needs full diacritics coverage: install fonts-noto-core (make setup does)."""


@cache
def _font(style: str) -> Path:
    name = {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf"}[style]
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissing(f"{name} not found in {', '.join(map(str, FONT_DIRS))}: install fonts-noto-core")


def _text(node: etree._Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(path, {"h": NS})
    return (found.text or "") if found is not None else ""


def _show(value: str) -> str:
    return value.replace(".", ",") if value and value[0].isdigit() else value


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Long names ("Hoạt động trải nghiệm, hướng nghiệp") shrink to fit their cell rather than overflow it."""
    size = 9.0
    while size > 6 and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font_size(size)
    return text


class YearPage(FPDF):
    lookup_code = ""
    lookup_url = ""

    def footer(self) -> None:
        # On every page: the lookup code, and a QR code of the public lookup URL, so a printout can be verified.
        qr = io.BytesIO()
        segno.make(self.lookup_url, error="m").save(
            qr, kind="png", scale=4, border=1, dark="black", light="white"
        )
        self.image(qr, x=self.w - 32, y=self.h - 34, w=22, h=22)
        self.set_y(-26)
        self.set_font("Noto", "", 8)
        self.cell(0, 4, f"Mã số tra cứu: {self.lookup_code}", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"Tra cứu: {self.lookup_url}", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 4, f"Trang {self.page_no()}/{{nb}}")


def render(xml: bytes, *, created: datetime | None = None) -> bytes:
    root = etree.fromstring(xml)
    ns = {"h": NS}
    pdf = YearPage(format="A4", enforce_compliance="PDF/A-3B")
    pdf.set_creation_date(created or datetime.now(UTC))
    # Two faces only: every embedded face costs a parse and a subset per document (most of the rendering time).
    for style in ("", "B"):
        pdf.add_font("Noto", style, str(_font(style)))
    pdf.lookup_code = _text(root, "h:Identity/h:LookupCode")
    pdf.lookup_url = _text(root, "h:LookupUrl")
    student, klass, school = (root.find(f"h:{n}", ns) for n in ("Student", "Class", "School"))
    pdf.set_title(f"Học bạ {_text(student, 'h:FullName')} {_text(klass, 'h:SchoolYear')}")
    pdf.set_author(_text(school, "h:Name"))
    pdf.set_auto_page_break(True, margin=36)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()

    pdf.set_font("Noto", "B", 9)
    pdf.cell(95, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
    pdf.cell(0, 5, _text(school, "h:Name").upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 9)
    pdf.cell(95, 5, "Độc lập - Tự do - Hạnh phúc", align="C")
    pdf.cell(0, 5, _text(school, "h:Province"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Noto", "B", 16)
    pdf.cell(
        0,
        9,
        f"HỌC BẠ {LEVEL_TITLES.get(_text(school, 'h:Level'), '')}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Noto", "", 10)
    pdf.cell(
        0,
        6,
        f"Năm học {_text(klass, 'h:SchoolYear')} - Lớp {_text(klass, 'h:Name')}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font("Noto", "", 10)
    pdf.cell(0, 6, f"Họ và tên học sinh: {_text(student, 'h:FullName')}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(
        0, 6, f"Mã định danh (Bộ GD&ĐT): {_text(student, 'h:MoetCode') or '—'}", new_x="LMARGIN", new_y="NEXT"
    )
    if _text(student, "h:PersonalId"):
        pdf.cell(
            0, 6, f"Số định danh cá nhân: {_text(student, 'h:PersonalId')}", new_x="LMARGIN", new_y="NEXT"
        )
    source = _text(root, "h:Identity/h:Digitised/h:Source")
    if source:
        pdf.set_font("Noto", "", 9)
        pdf.cell(0, 6, f"Số hóa từ học bạ giấy: {source}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Noto", "", 10)
    pdf.ln(2)

    primary = _text(school, "h:Level") == "primary"
    header = (
        (("Môn học", 70), ("Cuối HK I", 22), ("Cuối năm", 22), ("KTĐK", 16), ("Giáo viên", 50))
        if primary
        else (("Môn học", 70), ("Học kỳ I", 20), ("Học kỳ II", 20), ("Cả năm", 20), ("Giáo viên bộ môn", 50))
    )
    pdf.set_font("Noto", "B", 9)
    pdf.set_fill_color(230, 236, 245)
    for title, width in header:
        pdf.cell(width, 7, title, border=1, align="C", fill=True)
    pdf.ln()
    pdf.set_font("Noto", "", 9)
    for subject in root.iterfind("h:Subjects/h:Subject", ns):
        terms = {t.get("term"): t for t in subject.iterfind("h:Term", ns)}
        if primary:
            cells: tuple[str, ...] = (
                _text(terms.get("hk1"), "h:Level"),
                _text(terms.get("hk2"), "h:Level"),
                _text(terms.get("hk2"), "h:Test"),
            )
        else:
            cells = tuple(
                _show(_text(terms.get(t), "h:Average") or _text(terms.get(t), "h:Result"))
                for t in ("hk1", "hk2")
            ) + (_show(_text(subject, "h:Year")),)
        pdf.cell(header[0][1], 6.5, _fit(pdf, _text(subject, "h:Name"), header[0][1] - 2), border=1)
        pdf.set_font_size(9)
        for (_, width), value in zip(header[1:4], cells, strict=True):
            pdf.cell(width, 6.5, value, border=1, align="C")
        pdf.cell(header[4][1], 6.5, _text(subject, "h:Teacher"), border=1, new_x="LMARGIN", new_y="NEXT")

    pdf.ln(3)
    pdf.set_font("Noto", "B", 10)
    pdf.cell(0, 6, "Kết quả", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 9)
    for period in root.iterfind("h:Results/h:Period", ns):
        parts = [
            f"{label}: {value}"
            for label, value in (
                ("Học tập", _text(period, "h:LearningResult")),
                ("Rèn luyện", _text(period, "h:Conduct")),
                ("Nghỉ", _text(period, "h:Absences") and f"{_text(period, 'h:Absences')} buổi"),
            )
            if value
        ]
        if parts:
            pdf.cell(
                0,
                5.5,
                f"{PERIOD_TITLES.get(period.get('period'), '')}: " + "; ".join(parts),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    results = root.find("h:Results", ns)
    for title, tag in (("Phẩm chất chủ yếu", "h:Quality"), ("Năng lực cốt lõi", "h:Competency")):
        traits = [
            f"{TRAIT_TITLES.get(t.get('name', ''), t.get('name'))}: {TRAIT_LEVELS.get(t.text or '', t.text)}"
            for t in (results.iterfind(tag, ns) if results is not None else ())
        ]
        if traits:
            pdf.multi_cell(0, 5.5, f"{title}: " + "; ".join(traits), new_x="LMARGIN", new_y="NEXT")
    for label, path in (
        ("Đánh giá cuối năm", "h:YearResult"),
        ("Lên lớp", "h:Promotion"),
        ("Khen thưởng", "h:Award"),
    ):
        if _text(results, path):
            pdf.cell(0, 5.5, f"{label}: {_text(results, path)}", new_x="LMARGIN", new_y="NEXT")
    comment = _text(root, "h:Results/h:Period[@period='hk2']/h:HomeroomComment")
    if comment:
        pdf.multi_cell(0, 5.5, f"Nhận xét của giáo viên chủ nhiệm: {comment}", new_x="LMARGIN", new_y="NEXT")

    pdf.ln(3)
    pdf.set_font("Noto", "B", 10)
    pdf.cell(0, 6, "Chữ ký", new_x="LMARGIN", new_y="NEXT")
    steps = list(root.iterfind("h:SignaturePlan/h:Step", ns))
    box_w, box_h = 45, 22
    areas: list[SignatureArea] = []
    for i, step in enumerate(steps):
        if i % 4 == 0:
            if pdf.get_y() + box_h > pdf.h - 36:
                pdf.add_page()
            x0, y0 = pdf.l_margin, pdf.get_y()
        x = x0 + (i % 4) * box_w
        pdf.rect(x, y0, box_w - 2, box_h)
        pdf.set_xy(x + 1, y0 + 1)
        pdf.set_font("Noto", "B", 7)
        pdf.cell(box_w - 4, 4, ROLE_TITLES.get(step.get("role", ""), ""))
        pdf.set_xy(x + 1, y0 + box_h - 6)
        pdf.set_font("Noto", "", 7)
        pdf.cell(box_w - 4, 4, _text(step, "h:SignerName"))
        bottom = y0 + box_h - 6
        if _text(step, "h:OnBehalfOf"):
            pdf.set_xy(x + 1, y0 + box_h - 11)
            pdf.set_font("Noto", "", 6)
            pdf.cell(box_w - 4, 4, f"ký thay {_text(step, 'h:OnBehalfOf')}")
            bottom = y0 + box_h - 11
        # The signature shows between the printed role and name: the field's rect is that free part of the box.
        areas.append(
            SignatureArea(step.get("field", ""), pdf.page_no() - 1, x + 1, y0 + 5, box_w - 4, bottom)
        )
        if i % 4 == 3 or i == len(steps) - 1:
            pdf.set_y(y0 + box_h + 2)
    pdf.embed_file(
        bytes=xml,
        basename="hocba.xml",
        mime_type="application/xml",
        desc="Học bạ số - gói XML",
        associated_file_relationship="Data",
    )
    return _with_signature_fields(bytes(pdf.output()), areas, pdf.h)


@dataclass(frozen=True)
class SignatureArea:
    """Where a step's signature shows, in the form's millimetres from the top left of its page."""

    field: str
    page: int
    left: float
    top: float
    width: float
    bottom: float


def _with_signature_fields(document: bytes, areas: list[SignatureArea], page_height: float) -> bytes:
    """Empty signature fields over the boxes, so each signature's appearance prints in its own box.

    Signing adds each field's lock (and an invisible field for any step not drawn here) before the first signature.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    for area in areas:
        points = (
            area.left * MM,
            (page_height - area.bottom) * MM,
            (area.left + area.width) * MM,
            (page_height - area.top) * MM,
        )
        fields.append_signature_field(
            writer,
            # pyHanko annotates the box as ints but writes any number; the rect must sit exactly on the printed box
            fields.SigFieldSpec(area.field, on_page=area.page, box=tuple(round(p, 2) for p in points)),  # type: ignore[arg-type]
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
