"""The offline QR-checking page: one static HTML file, the province's key pinned and the trust list inside it.

Once loaded it calls no server (its Content-Security-Policy allows only the trust-list refresh the reader asks for):
base45, zlib (the browser's DecompressionStream), CBOR and the COSE Sig_structure are a few lines of script, and the
signatures are WebCrypto's ECDSA P-256. The page checks the trust list's signature with the pinned province key only;
the certificate chain of that key was checked when the page was built (``hocba qr page``).
"""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import urlsplit

PLACEHOLDER = "/*HOCBA_CONFIG*/null"


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
    template = resources.files(__package__).joinpath("qr_page.html").read_text(encoding="utf-8")
    origin = "'none'"
    if trust_list_url:
        parts = urlsplit(trust_list_url)
        origin = f"{parts.scheme}://{parts.netloc}"
    return template.replace(PLACEHOLDER, embedded).replace("__CONNECT_SRC__", origin)
