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

from services.runtime.fonts import latin_cut
from services.transcript.documents.xml_package import NS
from services.transcript.domain.errors import InternalFault

FACES = ("", "B")  # regular and bold: the form uses no other
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
RETEST_LEGEND = "Cột Cả năm có hai kết quả: cuối năm / sau kiểm tra lại (Điều 14 Thông tư 22/2021/TT-BGDĐT)."
SUPPLEMENTARY_LEGEND = (
    "Cột Cả năm có hai mức: cuối năm / sau đánh giá bổ sung (Điều 11 Thông tư 27/2020/TT-BGDĐT)."
)
PLAN_MARK = "(*)"
PLAN_TEXT = "Học theo kế hoạch giáo dục cá nhân"
PLAN_BASIS = {
    "tt22": "Điều 10 Thông tư 22/2021/TT-BGDĐT",
    "tt27": "Thông tư 27/2020/TT-BGDĐT",
}
PERIOD_TITLES = {
    "hk1": "Học kỳ I",
    "hk2": "Học kỳ II",
    "year": "Cả năm",
    "summer": "Sau kiểm tra lại, rèn luyện hè",
}
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


class FontMissing(InternalFault):
    """Vietnamese needs full diacritics coverage: install fonts-noto-core (make setup does).

    Permanent: the image lacks the font until it is rebuilt, so retrying the event on it fails the same way; the
    dead-lettered event is replayed once the fonts are installed.
    """


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


def _fit(pdf: FPDF, text: str, width: float, size: float = 9.0) -> str:
    """Long names ("Hoạt động trải nghiệm, hướng nghiệp") shrink to fit their cell rather than overflow it."""
    pdf.set_font_size(size)
    while size > 6 and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font_size(size)
    return text


def shown_date(iso: str) -> str:
    """2011-07-13 → 13/07/2011, as Vietnamese forms print dates (the verifier applies the same rule)."""
    return "/".join(reversed(iso.split("-"))) if iso else ""


# The signature boxes: a grid of three per row, each big enough for a visible stamp of three short lines
# (≥ 45 pt high, ≥ 150 pt wide), so a year with a dozen teachers still fits on one A4 page with its table.
BOX_COLUMNS = 3
BOX_GAP = 3.0  # mm between boxes in a row
BOX_H = 16.0  # mm (45.4 pt)
BOX_LABEL_H = 3.4  # mm: role and signer, printed above the box so the box itself stays free for the stamp
# Office printers leave 4–5 mm at each edge unprinted: nothing is drawn closer to the paper's edge than this, or the
# printout loses the bottom of the QR (which the sealed QR, drawn over it by signing, depends on) and of the footer.
PRINT_MARGIN = 5.0  # mm
QR_SIDE = 17.0  # mm: a version-11 QR (61 modules) at 0.28 mm a module, what a phone reads off paper
FOOTER_H = (
    PRINT_MARGIN + QR_SIDE
)  # mm kept free at the bottom of every page for the lookup code and the QR code
TOP_MARGIN = 9.0  # mm (was 12: the 3 mm the footer took from a full grade-8 page, which stays one page)


class YearPage(FPDF):
    lookup_code = ""
    lookup_url = ""

    def footer(self) -> None:
        # On every page: the lookup code, and a QR code of the public lookup URL, so a printout can be verified.
        qr = io.BytesIO()
        segno.make(self.lookup_url, error="m").save(
            qr, kind="png", scale=4, border=1, dark="black", light="white"
        )
        self.image(qr, x=self.w - self.r_margin - QR_SIDE, y=self.h - FOOTER_H, w=QR_SIDE, h=QR_SIDE)
        self.set_y(-(PRINT_MARGIN + 3 * 3.4))
        self.set_font("Noto", "", 7.5)
        self.cell(0, 3.4, f"Mã số tra cứu: {self.lookup_code}", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 3.4, f"Tra cứu: {self.lookup_url}", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 3.4, f"Trang {self.page_no()}/{{nb}}")


def render(xml: bytes, *, created: datetime | None = None) -> bytes:
    # The faces cut to the Latin scripts (services/runtime/fonts.py): every Vietnamese letter, a fraction of the
    # glyphs to load and subset. A value beyond them (a name in another script) has the page drawn again in the full
    # faces, so no letter is ever printed as a missing glyph.
    pdf, areas = _drawn(xml, {style: latin_cut(_font(style))[0] for style in FACES}, created)
    if any(
        getattr(font, "missing_glyphs", None) for font in pdf.fonts.values()
    ):  # TTFFont's, not a core font's
        pdf, areas = _drawn(xml, {style: _font(style) for style in FACES}, created)
    return _with_signature_fields(bytes(pdf.output()), areas, pdf.h)


def _drawn(
    xml: bytes, faces: dict[str, Path], created: datetime | None
) -> tuple[YearPage, list[SignatureArea]]:
    root = etree.fromstring(xml)
    pdf = YearPage(format="A4", enforce_compliance="PDF/A-3B")
    pdf.set_creation_date(created or datetime.now(UTC))
    # Two faces only: every embedded face costs a parse and a subset per document (most of the rendering time).
    for style, face in faces.items():
        pdf.add_font("Noto", style, str(face))
    pdf.lookup_code = _text(root, "h:Identity/h:LookupCode")
    pdf.lookup_url = _text(root, "h:LookupUrl")
    student, klass, school = (root.find(f"h:{n}", {"h": NS}) for n in ("Student", "Class", "School"))
    pdf.set_title(f"Học bạ {_text(student, 'h:FullName')} {_text(klass, 'h:SchoolYear')}")
    pdf.set_author(_text(school, "h:Name"))
    pdf.set_auto_page_break(True, margin=FOOTER_H + 1)
    pdf.set_margins(15, TOP_MARGIN, 15)
    pdf.add_page()
    _header(pdf, school, klass)
    _student(pdf, root, student)
    _subjects(pdf, root, _text(school, "h:Level") == "primary")
    _results(pdf, root)
    areas = _signature_boxes(pdf, list(root.iterfind("h:SignaturePlan/h:Step", {"h": NS})))
    pdf.embed_file(
        bytes=xml,
        basename="hocba.xml",
        mime_type="application/xml",
        desc="Học bạ số - gói XML",
        associated_file_relationship="Data",
    )
    return pdf, areas


def _line(pdf: FPDF, parts: list[tuple[str, float]], h: float = 5.0) -> None:
    """One line of labelled values side by side; a width of 0 takes the rest of the line."""
    for text, width in parts:
        room = width or (pdf.w - pdf.r_margin - pdf.get_x())
        pdf.cell(room, h, _fit(pdf, text, room - 1))
    pdf.set_font_size(9)
    pdf.ln(h)


def _header(pdf: FPDF, school: etree._Element | None, klass: etree._Element | None) -> None:
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_font("Noto", "B", 9)
    pdf.cell(half, 4.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
    pdf.cell(0, 4.5, _text(school, "h:Name").upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 9)
    pdf.cell(half, 4.5, "Độc lập - Tự do - Hạnh phúc", align="C")
    pdf.cell(0, 4.5, _text(school, "h:Province"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Noto", "B", 14)
    title = f"HỌC BẠ {LEVEL_TITLES.get(_text(school, 'h:Level'), '')}"
    pdf.cell(0, 7, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 10)
    year_class = f"Năm học {_text(klass, 'h:SchoolYear')} - Lớp {_text(klass, 'h:Name')}"
    pdf.cell(0, 5, year_class, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _student(pdf: FPDF, root: etree._Element, student: etree._Element | None) -> None:
    """The student's details (hocba-form.md): one labelled value per cell, so each reads as "label: value"."""

    def value(path: str) -> str:
        return _text(student, path) or "—"

    pdf.set_font("Noto", "B", 10)
    pdf.cell(118, 5.5, _fit(pdf, f"Họ và tên học sinh: {_text(student, 'h:FullName')}", 117, 10))
    pdf.set_font("Noto", "", 9)
    _line(pdf, [(f"Giới tính: {value('h:Gender')}", 0)], 5.5)
    birth = shown_date(_text(student, "h:BirthDate")) or "—"
    _line(
        pdf,
        [
            (f"Ngày sinh: {birth}", 50),
            (f"Dân tộc: {value('h:Ethnicity')}", 68),
            (f"Số đăng bộ: {value('h:RegisterNumber')}", 0),
        ],
    )
    _line(pdf, [(f"Nơi sinh: {value('h:BirthPlace')}", 0)])
    _line(
        pdf,
        [
            (f"Mã định danh (Bộ GD&ĐT): {value('h:MoetCode')}", 118),
            (f"Số định danh cá nhân: {value('h:PersonalId')}", 0),
        ],
    )
    effective = shown_date(_text(root, "h:Identity/h:EffectiveDate")) or "—"
    replaces = _text(root, "h:Identity/h:Supersedes")
    _line(
        pdf,
        [
            (f"Ngày hiệu lực: {effective}", 50),
            (f"Phiên bản: {_text(root, 'h:Identity/h:Version')}", 68 if replaces else 0),
            *([(f"Thay thế bản: {replaces}", 0)] if replaces else []),
        ],
    )
    source = _text(root, "h:Identity/h:Digitised/h:Source")
    if source:
        _line(pdf, [(f"Số hóa từ học bạ giấy: {source}", 0)])
    pdf.ln(1.5)


def _subjects(pdf: FPDF, root: etree._Element, primary: bool) -> None:
    ns = {"h": NS}
    header = (
        (
            ("Môn học và hoạt động giáo dục", 64),
            ("Mức HK I", 20),
            ("Mức cuối năm", 24),
            ("KTĐK", 14),
            ("Giáo viên", 58),
        )
        if primary
        else (("Môn học", 64), ("Học kỳ I", 19), ("Học kỳ II", 19), ("Cả năm", 19), ("Giáo viên bộ môn", 59))
    )
    row_h = 5.4
    pdf.set_font("Noto", "B", 8.5)
    pdf.set_fill_color(230, 236, 245)
    for title, width in header:
        pdf.cell(width, 6, title, border=1, align="C", fill=True)
    pdf.ln()
    pdf.set_font("Noto", "", 9)
    comments = []
    for subject in root.iterfind("h:Subjects/h:Subject", ns):
        terms = {t.get("term"): t for t in subject.iterfind("h:Term", ns)}
        if primary:
            # TT27 art. 11: after the supplementary assessment, its level beside the end-of-year one ("C / H"; two
            # spaces each side, or text extraction reads one narrow cell's "C/H" as one word and the page check fails).
            after, test_after = (
                _text(subject, "h:YearAfterRetest"),
                _text(subject, "h:TestAfterSupplementary"),
            )
            end, test = _text(terms.get("hk2"), "h:Level"), _text(terms.get("hk2"), "h:Test")
            cells: tuple[str, ...] = (
                _text(terms.get("hk1"), "h:Level"),
                f"{end}  /  {after}" if after else end,
                f"{test}  /  {test_after}" if test_after else test,
            )
        else:
            cells = tuple(
                _show(_text(terms.get(t), "h:Average") or _text(terms.get(t), "h:Result"))
                for t in ("hk1", "hk2")
            ) + (_year_cell(subject),)
        # TT22 art. 10: the subject's values measure the student's individual education plan (legend below).
        name = _text(subject, "h:Name") + (f" {PLAN_MARK}" if on_plan(subject) else "")
        pdf.cell(header[0][1], row_h, _fit(pdf, name, header[0][1] - 2), border=1)
        pdf.set_font_size(9)
        for (_, width), cell in zip(header[1:4], cells, strict=True):
            pdf.cell(width, row_h, cell, border=1, align="C")
        teacher = _fit(pdf, _text(subject, "h:Teacher"), header[4][1] - 2)
        pdf.cell(header[4][1], row_h, teacher, border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(9)
        said = [_text(terms.get(t), "h:Comment") for t in ("hk1", "hk2")]
        if any(said):
            comments.append(f"{_text(subject, 'h:Name')}: " + " ".join(c for c in said if c))
    for term, school in carried_terms(root).items():  # not on the row: the page check reads the rows' values
        pdf.set_font_size(8)
        pdf.multi_cell(0, 4.5, carried_legend(term, school), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(9)
    planned = plan_subjects(root)
    if planned:
        pdf.set_font_size(8)
        pdf.multi_cell(0, 4.5, plan_legend(root, planned), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(9)
    if root.find("h:Subjects/h:Subject/h:YearAfterRetest", ns) is not None:
        pdf.set_font_size(8)
        primary = _text(root, "h:Class/h:Circular") == "tt27"
        pdf.cell(0, 4.5, SUPPLEMENTARY_LEGEND if primary else RETEST_LEGEND, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(9)
    if comments:  # TT27: the subject teacher's comment on each subject, in full (one row would cut it short)
        pdf.ln(1)
        pdf.multi_cell(0, 4.5, "Nhận xét môn học: " + "; ".join(comments), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def on_plan(subject: etree._Element) -> bool:
    return subject.get("individualPlan") in ("true", "1")


def plan_subjects(root: etree._Element) -> list[str]:
    """The names of the subjects assessed against the student's individual education plan, in the form's order."""
    return [_text(s, "h:Name") for s in root.iterfind("h:Subjects/h:Subject", {"h": NS}) if on_plan(s)]


def plan_legend(root: etree._Element, planned: list[str]) -> str:
    basis = PLAN_BASIS.get(_text(root, "h:Class/h:Circular"), PLAN_BASIS["tt22"])
    return (
        f"{PLAN_MARK} {PLAN_TEXT}: {', '.join(planned)} được đánh giá theo yêu cầu của kế hoạch giáo dục cá nhân "
        f"({basis}); các môn khác đánh giá như mọi học sinh."
    )


def carried_terms(root: etree._Element) -> dict[str, str]:
    """Term → the school that assessed it, for the terms another school assessed (a student who joined during the
    year); each term once, in term order."""
    found: dict[str, str] = {}
    for term in sorted(root.iterfind("h:Subjects/h:Subject/h:Term[@assessedBy]", {"h": NS}), key=_term_key):
        found.setdefault(term.get("term") or "", term.get("assessedByName") or term.get("assessedBy") or "")
    return found


def _term_key(term: etree._Element) -> str:
    return term.get("term") or ""


def carried_legend(term: str, school: str) -> str:
    return (
        f"Kết quả {PERIOD_TITLES.get(term, term).lower()} của các môn do {school} đánh giá (học sinh chuyển đến), "
        "chuyển sang theo hồ sơ bàn giao; trường này không đánh giá lại."
    )


def _year_cell(subject: etree._Element) -> str:
    """The year result, and after a re-test the result that replaced it ("4,5 / 6,5", explained under the table):
    the form prints both. (A slash: the form's Noto subset has no arrow.)"""
    year, retest = _show(_text(subject, "h:Year")), _show(_text(subject, "h:YearAfterRetest"))
    return f"{year} / {retest}" if retest else year


def _results(pdf: FPDF, root: etree._Element) -> None:
    ns = {"h": NS}
    pdf.set_font("Noto", "B", 10)
    pdf.cell(0, 5.5, "Kết quả", new_x="LMARGIN", new_y="NEXT")
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
            title = PERIOD_TITLES.get(period.get("period") or "", "")
            if period.get("schoolName"):  # the year was studied at more than one school
                title += f" (học tại {period.get('schoolName')})"
            pdf.cell(0, 4.6, f"{title}: " + "; ".join(parts), new_x="LMARGIN", new_y="NEXT")
    results = root.find("h:Results", ns)
    for title, tag in (("Phẩm chất chủ yếu", "h:Quality"), ("Năng lực", "h:Competency")):
        traits = [
            f"{TRAIT_TITLES.get(t.get('name', ''), t.get('name'))}: {TRAIT_LEVELS.get(t.text or '', t.text)}"
            # TT27 art. 11: the level re-assessed after the summer, beside the year's
            + (f" / {TRAIT_LEVELS.get(again, again)}" if (again := t.get("afterSupplementary")) else "")
            for t in (results.iterfind(tag, ns) if results is not None else ())
        ]
        if traits:
            _trait_grid(pdf, title, traits)
    # TT27 art. 11: a primary record's Promotion is the completion decision, and after the summer the
    # supplementary assessment's (the gradebook's words, e.g. "Hoàn thành chương trình lớp học; lên lớp").
    primary = _text(root, "h:Class/h:Circular") == "tt27"
    outcome = [
        f"{label}: {_text(results, path)}"
        for label, path in (
            ("Đánh giá cuối năm", "h:YearResult"),
            ("Xác nhận" if primary else "Lên lớp", "h:Promotion"),
            (
                "Sau đánh giá bổ sung" if primary else "Lên lớp sau kiểm tra lại, rèn luyện hè",
                "h:PromotionAfterSummer",
            ),
            ("Khen thưởng", "h:Award"),
        )
        if _text(results, path)
    ]
    if outcome:
        pdf.multi_cell(0, 4.6, "; ".join(outcome), new_x="LMARGIN", new_y="NEXT")
    planned = plan_subjects(root)
    if planned:  # the year's remarks say it too, beside the results computed from those subjects
        pdf.multi_cell(
            0, 4.6, f"Ghi chú: {PLAN_TEXT} (môn {', '.join(planned)}).", new_x="LMARGIN", new_y="NEXT"
        )
    comment = _text(root, "h:Results/h:Period[@period='hk2']/h:HomeroomComment")
    if comment:
        pdf.multi_cell(0, 4.6, f"Nhận xét của giáo viên chủ nhiệm: {comment}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _trait_grid(pdf: FPDF, title: str, traits: list[str]) -> None:
    """TT27 qualities or competencies, three to a row, each "name: level" in its own bordered cell."""
    pdf.set_font("Noto", "B", 9)
    pdf.cell(0, 4.8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 8.5)
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 3
    for i, trait in enumerate(traits):
        last = i % 3 == 2 or i == len(traits) - 1
        pdf.cell(
            width,
            5,
            _fit(pdf, trait, width - 2, 8.5),
            border=1,
            new_x="LMARGIN" if last else "RIGHT",
            new_y="NEXT" if last else "TOP",
        )
    pdf.set_font("Noto", "", 9)


def signature_box_width(pdf: FPDF) -> float:
    return (pdf.w - pdf.l_margin - pdf.r_margin - (BOX_COLUMNS - 1) * BOX_GAP) / BOX_COLUMNS


def _signature_boxes(pdf: FPDF, steps: list[etree._Element]) -> list[SignatureArea]:
    """One box per signature step, in plan order, in a grid; the role and signer above each box.

    Returns where each box is, so that the step's signature field (and so its visible signature) sits inside it.
    """
    areas: list[SignatureArea] = []
    pdf.set_font("Noto", "B", 10)
    pdf.cell(0, 5.5, "Chữ ký", new_x="LMARGIN", new_y="NEXT")
    box_w, pitch = signature_box_width(pdf), BOX_LABEL_H + BOX_H + 1.5
    y0 = pdf.get_y()
    for i, step in enumerate(steps):
        column = i % BOX_COLUMNS
        if column == 0:
            y0 = pdf.get_y()
            if y0 + pitch > pdf.h - pdf.b_margin:
                pdf.add_page()
                y0 = pdf.get_y()
        x = pdf.l_margin + column * (box_w + BOX_GAP)
        label = f"{ROLE_TITLES.get(step.get('role', ''), '')}: {_text(step, 'h:SignerName')}"
        if _text(step, "h:OnBehalfOf"):
            label += f" (ký thay {_text(step, 'h:OnBehalfOf')})"
        pdf.set_xy(x, y0)
        pdf.set_font("Noto", "", 7.5)
        pdf.cell(box_w, BOX_LABEL_H, _fit(pdf, label, box_w - 1, 7.5))
        pdf.rect(x, y0 + BOX_LABEL_H, box_w, BOX_H)
        top = y0 + BOX_LABEL_H + 0.5
        areas.append(
            SignatureArea(step.get("field", ""), pdf.page_no() - 1, x + 0.5, top, box_w - 1, top + BOX_H - 1)
        )
        if column == BOX_COLUMNS - 1 or i == len(steps) - 1:
            pdf.set_xy(pdf.l_margin, y0 + pitch)
    return areas


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
