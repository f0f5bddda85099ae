"""The offline QR page carries its photo decoder inside: jsQR 1.4.0 as npm published it, inlined, nothing fetched."""

from __future__ import annotations

import hashlib
from importlib import resources

from services.signing.verifier import qr_page


def test_the_vendored_decoder_is_the_published_one_and_the_page_inlines_it() -> None:
    vendored = resources.files("services.signing.verifier").joinpath(qr_page.JSQR).read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == qr_page.JSQR_SHA256
    page = qr_page.render(b"\x30\x00")
    assert "function jsQR(data, width, height, providedOptions)" in page
    assert qr_page.JSQR_PLACEHOLDER not in page and "<script src" not in page  # nothing loaded from elsewhere
