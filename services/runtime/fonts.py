"""Noto Sans cut once to the Latin scripts: the face our PDFs are written in whenever the text allows.

Every PDF we write embeds a subset of its font, and to cut that subset fontTools reads the whole face, its layout
tables (GSUB/GPOS) included, each time; fpdf2 also maps every glyph of the face when it loads it. For Noto Sans
(3,300 glyphs: Latin, Greek, Cyrillic) that was half of the CPU a signature stamp costs and most of a printed
record's rendering (docs/performance.md). The cut keeps every Latin letter, which covers Vietnamese and every name
written in the Latin alphabet, and no layout features: the text is set in NFC, so each Vietnamese letter with its
tone is one precomposed glyph and needs no mark positioning, and neither pyHanko's stamps nor fpdf2's form use
kerning. Text outside the cut is set in the full face by the caller, so nothing is ever drawn as a missing glyph.

A cut is written once per machine under the temporary directory (writable in the pods: an emptyDir on /tmp), named
by the source face's digest so an upgraded font package never meets an old cut.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

from fontTools import subset, ttLib

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


@functools.cache
def latin_cut(source: Path) -> tuple[Path, frozenset[str]]:
    """The cut of the face at ``source``, and the characters it has a glyph for."""
    face_bytes = source.read_bytes()
    target = (
        Path(tempfile.gettempdir())
        / f"hocba-latin-v2-{source.stem}-{hashlib.sha256(face_bytes).hexdigest()[:16]}.ttf"
    )
    if not target.exists():
        face = ttLib.TTFont(source)
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
