"""The sealed summary's QR drawn on every page, over the form's URL QR, before anyone signs.

Drawn in an incremental update before the first signature: the first signature certifies "form filling and signing
only", so the pages' content is final from then on (a QR added at seal time would be a forbidden change). The
summary's content is final at this point too: the record XML, its results, version and effective date are what the
people and the seal sign afterwards, and its sha256 is in the summary.
"""

from __future__ import annotations

import io

import segno
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

MM = 72 / 25.4
# Where the transcript's form draws its footer QR (pdf_form.YearPage.footer): 17 mm square, its right edge on the
# 15 mm margin, its bottom 5 mm above the page's (printers leave 4–5 mm at the edge unprinted); we cover it and
# draw the sealed one in the same square.
QR_SIZE = 17 * MM
RIGHT_MARGIN = 15 * MM
BOTTOM = 5 * MM
COVER = 0.5 * MM  # the white cover overlaps the old QR's edge by this much


def qr_image(text: str) -> Image.Image:
    """The QR as an image, four pixels a module (renderers that smooth a scaled image blur a one-pixel module to grey).

    Error level L keeps a ~465-character summary at version 11: 61 modules and a 2-module margin in 17 mm, 0.26 mm a
    module, read by zbar from a 300 dpi rendering; segno raises the level where that costs no size. Base45's alphabet
    is QR's alphanumeric mode, hence the upper-case text.
    """
    buffer = io.BytesIO()
    segno.make(text, error="l", micro=False).save(buffer, kind="png", scale=4, border=2)
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def stamp(pdf: bytes, text: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    image = PdfImage(qr_image(text), writer=writer)
    resources = generic.DictionaryObject(
        {
            generic.NameObject("/XObject"): generic.DictionaryObject(
                {generic.NameObject("/HbSealedQr"): image.image_ref}
            )
        }
    )
    pages = int(writer.prev.root["/Pages"]["/Count"])
    for index in range(pages):
        page = writer.find_page_for_modification(index)[0].get_object()
        box = page.get("/MediaBox") or writer.prev.root["/Pages"]["/MediaBox"]  # inherited from the page tree
        width = float(box[2]) - float(box[0])
        x = width - RIGHT_MARGIN - QR_SIZE
        # q … Q around the page's own content: whatever state it leaves, our drawing starts from the default.
        before = writer.add_object(generic.StreamObject(stream_data=b"q\n"))
        drawing = (
            f"Q q 1 g {x - COVER:.2f} {BOTTOM - COVER:.2f} {QR_SIZE + 2 * COVER:.2f} "
            f"{QR_SIZE + 2 * COVER:.2f} re f "
            f"{QR_SIZE:.2f} 0 0 {QR_SIZE:.2f} {x:.2f} {BOTTOM:.2f} cm /HbSealedQr Do Q\n"
        ).encode()
        after = writer.add_object(generic.StreamObject(stream_data=drawing))
        writer.add_stream_to_page(index, before, prepend=True)
        writer.add_stream_to_page(index, after, resources=resources)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
