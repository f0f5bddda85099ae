"""The offline QR-checking page: one static HTML file, the province's key pinned and the trust list inside it.

Once loaded it calls no server (its Content-Security-Policy allows only the trust-list refresh the reader asks for):
base45, zlib (the browser's DecompressionStream), CBOR and the COSE Sig_structure are a few lines of script, and the
signatures are WebCrypto's ECDSA P-256. A photo of the QR (the phone's camera, through the file input's capture) is
read by the browser's BarcodeDetector where it has one, else by jsQR, inlined from the vendored copy beside this
module. The page checks the trust list's signature with the pinned province key only;
the certificate chain of that key was checked when the page was built (``hocba qr page``).
"""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import urlsplit

PLACEHOLDER = "/*HOCBA_CONFIG*/null"
JSQR_PLACEHOLDER = "/*HOCBA_JSQR*/"
# jsQR 1.4.0 from npm (dist/jsQR.js), kept as published: a changed byte is caught by a test.
JSQR = "jsqr-1.4.0.js"
JSQR_SHA256 = "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859"


def render(
    province_key_spki: bytes, trust_list: bytes | None = None, trust_list_url: str | None = None
) -> str:
    import base64

    config = {
        "province_key": base64.b64encode(province_key_spki).decode(),
        "trust_list": trust_list.decode() if trust_list is not None else None,
        "trust_list_url": trust_list_url,
    }
    # Inside <script>: a "</" in the data must not close the element.
    embedded = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    here = resources.files(__package__)
    template = here.joinpath("qr_page.html").read_text(encoding="utf-8")
    decoder = here.joinpath(JSQR).read_text(encoding="utf-8")
    origin = "'none'"
    if trust_list_url:
        parts = urlsplit(trust_list_url)
        origin = f"{parts.scheme}://{parts.netloc}"
    page = template.replace(PLACEHOLDER, embedded).replace("__CONNECT_SRC__", origin)
    return page.replace(JSQR_PLACEHOLDER, decoder.replace("</", "<\\/"), 1)
