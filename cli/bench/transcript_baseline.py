"""`hocba bench transcript`'s baseline: the same documents made with bare lxml and bare fpdf2, no service code."""

from __future__ import annotations

import io
from typing import Any

# An element as plain data, read from our package before the timing: (tag, attributes, text, children).
Plain = tuple[Any, dict[str, str], str | None, list[Any]]


def plain_tree(xml: bytes) -> Plain:
    """The package's elements as plain data (its namespaces are in the root's ``xmlns`` attributes' place: the
    root's tag is paired with its namespace map)."""
    from lxml import etree

    def plain(node: Any) -> Plain:
        return (node.tag, dict(node.attrib), node.text, [plain(child) for child in node])

    root = etree.fromstring(xml)
    tag, attrib, text, children = plain(root)
    return ((tag, dict(root.nsmap)), attrib, text, children)


def page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


def bare_lxml(trees: list[Plain]) -> list[bytes]:
    """Each package built element by element with lxml, validated against the same XSD, and canonicalised as ours
    is (C14N 2.0): the same bytes as ours (tests/unit/bench/test_transcript_baseline.py checks it)."""
    from lxml import etree

    from services.transcript.documents.xml_package import schema

    def build(parent: Any, tree: Plain) -> Any:
        tag, attrib, text, children = tree
        if parent is None:
            tag, nsmap = tag
            node = etree.Element(tag, attrib, nsmap=nsmap)
        else:
            node = etree.SubElement(parent, tag, attrib)
        node.text = text
        for child in children:
            build(node, child)
        return node

    out = []
    for tree in trees:
        root = build(None, tree)
        if not schema().validate(root):
            raise ValueError("the baseline's package does not match the XSD")
        out.append(etree.tostring(root, method="c14n2"))
    return out


def _texts(tree: Plain) -> list[str]:
    _, attrib, text, children = tree
    own = [v for v in (text, *attrib.values()) if v and v.strip()]
    return own + [t for child in children for t in _texts(child)]


def bare_fpdf(documents: list[tuple[Plain, int, bytes]]) -> list[bytes]:
    """Each record as a bare fpdf2 document: every value of its package as a one-line cell, in the form's two Noto faces (the
    same Latin cut), over the same number of A4 pages as ours, PDF/A-3 with the package attached. What it leaves out
    is ours alone: the form's layout, the signature fields (pyHanko's incremental revision), the QR code."""
    from fpdf import FPDF

    from services.runtime.fonts import latin_cut
    from services.transcript.documents.pdf_form import FACES, _font

    faces = {style: latin_cut(_font(style))[0] for style in FACES}
    out = []
    for tree, pages, xml in documents:
        pdf = FPDF(format="A4", enforce_compliance="PDF/A-3B")
        for style, face in faces.items():
            pdf.add_font("Noto", style, str(face))
        pdf.set_auto_page_break(False)
        pdf.set_margins(8, 8, 8)
        texts = _texts(tree)
        per_page = -(-len(texts) // pages)
        for page in range(pages):
            pdf.add_page()
            pdf.set_font("Noto", "B", 12)
            pdf.cell(0, 8, texts[0], new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Noto", "", 6)
            # Four columns of one-line cells (no wrapping to compute): the cheapest way fpdf2 sets text.
            for n, text in enumerate(texts[page * per_page : (page + 1) * per_page]):
                pdf.set_xy(8 + 49 * (n % 4), 16 + 2.9 * (n // 4))
                pdf.cell(48, 2.9, text[:60])
        pdf.embed_file(
            bytes=xml, basename="hocba.xml", mime_type="application/xml", desc="Học bạ số - gói XML"
        )
        out.append(bytes(pdf.output()))
    return out
