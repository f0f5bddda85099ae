"""The face a signature's stamp is written in: Noto Sans cut to the Latin scripts (`services/runtime/fonts.py`), the
full face only when a name needs a letter outside them; and the font engine that embeds it.

pyHanko embeds, in every signature, a subset of the stamp's face with the glyphs that stamp uses, and makes it
again for each signature: fontTools decompiles the face, cuts it and compiles the cut (measured under `hocba bench
peak`: some 12 % of the signing service's CPU). :class:`StampFont` makes the same cut once per face and set of
glyphs in a process and reuses it. The set always holds the digits and the punctuation of the date, so one signer's
stamps (the same name and role; only the time differs) share one cut: a teacher signing a class makes it once.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fontTools import subset, ttLib
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

from services.runtime.fonts import latin_cut

# The printed form's own face (fonts-noto-core): full Vietnamese coverage, embedded as a subset (PDF/A).
NOTO_SANS = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
# In every cut beside the stamp's own letters: what the date and time of any stamp are written with.
ALWAYS_KEPT = "0123456789/: "
_CUTS_KEPT = 64  # cuts of some tens of KB each: a school's signers, well under the service's memory budget


def face_for(text: str) -> Path:
    """The cut face when it has a glyph for every character of ``text`` (set in NFC), else the full one."""
    cut, covered = latin_cut(NOTO_SANS)
    return (
        cut
        if all(ch in covered for ch in unicodedata.normalize("NFC", text) if ch not in "\r\n")
        else NOTO_SANS
    )


@dataclass(frozen=True)
class StampFont(GlyphAccumulatorFactory):
    """pyHanko's glyph accumulator for a stamp, embedding a cut of the face made once per set of glyphs."""

    def create_font_engine(self, writer: Any, obj_stream: Any = None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()  # as pyHanko's factory does
        return _ReusedCutAccumulator(
            Path(self.font_file),
            writer=writer,
            font_handle=io.BytesIO(_face_bytes(Path(self.font_file))),
            font_size=self.font_size,
            ot_script_tag=self.ot_script_tag,
            ot_language_tag=self.ot_language_tag,
            writing_direction=self.writing_direction,
            bcp47_lang_code=self.bcp47_lang_code,
            obj_stream=obj_stream,
        )


class _ReusedCutAccumulator(GlyphAccumulator):
    """pyHanko's accumulator, but its embedded font program is a cut made once (:func:`_cut`), and the face it
    shaped with is left whole (pyHanko cuts it in place)."""

    def __init__(self, face: Path, **kwargs: Any) -> None:
        self._face = face
        super().__init__(**kwargs)

    def _extract_subset(self, options: Any = None) -> None:
        if not self.use_raw_gids:  # a CFF face keeps pyHanko's own way (none of ours is one)
            super()._extract_subset(options)
            return
        glyphs = frozenset(self._glyphs) | _always_kept(self._face)
        # pyHanko writes the program from the CIDFont's face (`tt_font`): the cut, read lazily, saves as it is.
        self.cidfont_obj._tt = ttLib.TTFont(io.BytesIO(_cut(self._face, glyphs)))


@functools.cache
def _face_bytes(face: Path) -> bytes:
    return face.read_bytes()


@functools.cache
def _always_kept(face: Path) -> frozenset[int]:
    font = ttLib.TTFont(io.BytesIO(_face_bytes(face)))
    cmap = font.getBestCmap()
    return frozenset(font.getGlyphID(cmap[ord(ch)]) for ch in ALWAYS_KEPT if ord(ch) in cmap)


@functools.lru_cache(maxsize=_CUTS_KEPT)
def _cut(face: Path, glyphs: frozenset[int]) -> bytes:
    """The face cut to ``glyphs``, exactly as pyHanko cuts it for a TrueType face: glyph ids kept (the stamp's
    content refers to them), no layout tables."""
    font = ttLib.TTFont(io.BytesIO(_face_bytes(face)))
    options = subset.Options(layout_closure=False)
    options.drop_tables += ["GPOS", "GDEF", "GSUB"]
    options.retain_gids = True
    cutter = subset.Subsetter(options=options)
    cutter.populate(gids=sorted(glyphs))
    cutter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
