"""The face a signature's stamp is written in: Noto Sans cut to the Latin scripts (`services/runtime/fonts.py`), the
full face only when a name needs a letter outside them."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from services.runtime.fonts import latin_cut

# The printed form's own face (fonts-noto-core): full Vietnamese coverage, embedded as a subset (PDF/A).
NOTO_SANS = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")


def face_for(text: str) -> Path:
    """The cut face when it has a glyph for every character of ``text`` (set in NFC), else the full one."""
    cut, covered = latin_cut(NOTO_SANS)
    return (
        cut
        if all(ch in covered for ch in unicodedata.normalize("NFC", text) if ch not in "\r\n")
        else NOTO_SANS
    )
