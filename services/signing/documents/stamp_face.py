"""The face a signature's stamp is written in: Noto Sans cut once to the Latin scripts, the full face only when a
name needs a letter outside them.

pyHanko embeds a subset of the stamp's font in every signature, and to cut that subset fontTools decompiles the
whole face's layout tables (GSUB/GPOS) each time. For Noto Sans (3,300 glyphs: Latin, Greek, Cyrillic) that was half
of the CPU a sealed record costs (docs/performance.md). The cut keeps every Latin letter, which covers Vietnamese and
every name written in the Latin alphabet, and no layout features: the text is set in NFC, so each Vietnamese letter
with its tone is one precomposed glyph and needs no mark positioning, and the printed form itself (fpdf2) is set
without kerning too. The stamp of a name outside the cut falls back to the full face with all its features, so no
text is ever drawn as a missing glyph.

The cut is written once per machine under the temporary directory (writable in the pods: an emptyDir on /tmp),
named by the source face's digest so an upgraded font package never meets an old cut.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import unicodedata
from pathlib import Path

from fontTools import subset, ttLib

# The printed form's own face (fonts-noto-core): full Vietnamese coverage, embedded as a subset (PDF/A).
NOTO_SANS = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")

# Basic Latin, Latin-1, Latin Extended-A and -B (Đ đ Ơ ơ Ư ư), combining diacritics, Latin Extended Additional
# (every precomposed Vietnamese vowel with tone), general punctuation and currency signs.
LATIN_SCRIPTS = (
    range(0x20, 0x7F),
    range(0xA0, 0x250),
    range(0x300, 0x370),
    range(0x1E00, 0x1F00),
    range(0x2000, 0x2070),
    range(0x20A0, 0x20C0),
)


def face_for(text: str) -> Path:
    """The cut face when it has a glyph for every character of ``text`` (set in NFC), else the full one."""
    cut, covered = _latin_cut()
    return (
        cut
        if all(ch in covered for ch in unicodedata.normalize("NFC", text) if ch not in "\r\n")
        else NOTO_SANS
    )


@functools.cache
def _latin_cut() -> tuple[Path, frozenset[str]]:
    source = NOTO_SANS.read_bytes()
    target = (
        Path(tempfile.gettempdir()) / f"hocba-stamp-latin-v2-{hashlib.sha256(source).hexdigest()[:16]}.ttf"
    )
    if not target.exists():
        face = ttLib.TTFont(NOTO_SANS)
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = ["*"]
        options.notdef_outline = True
        cutter = subset.Subsetter(options)
        cutter.populate(unicodes=[code for block in LATIN_SCRIPTS for code in block])
        cutter.subset(face)
        # Written aside and renamed: another process of this machine may be reading the same name.
        partial = target.with_suffix(f".{os.getpid()}.part")
        face.save(partial)
        os.replace(partial, target)
    covered = frozenset(chr(code) for code in ttLib.TTFont(target)["cmap"].getBestCmap())
    return target, covered
