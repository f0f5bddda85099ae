"""The stamp's face: the Latin cut carries every Vietnamese letter; a name outside it gets the full face."""

from __future__ import annotations

import unicodedata

from fontTools import ttLib

from services.signing.documents.stamp_face import NOTO_SANS, face_for

VOWELS = "aăâeêioôơuưy"
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # ngang, huyền, sắc, hỏi, ngã, nặng


def vietnamese_alphabet() -> str:
    """Every letter a Vietnamese name can hold: each vowel with each tone, precomposed and decomposed, both cases."""
    letters = {unicodedata.normalize(form, v + t) for v in VOWELS for t in TONES for form in ("NFC", "NFD")}
    letters |= set("bcdđghklmnpqrstvx")
    return "".join(sorted(letters | {ch.upper() for ch in letters}))


def test_every_vietnamese_letter_and_the_stamp_s_own_words_are_in_the_cut() -> None:
    text = (
        vietnamese_alphabet() + "ĐÓNG DẤU: Ngày đóng dấu: Ký bởi: Ngày ký: 07/12/2026 10:40, ký thay – “” …"
    )
    face = face_for(text)
    assert face != NOTO_SANS
    glyphs = len(ttLib.TTFont(face).getGlyphOrder())
    assert glyphs < len(ttLib.TTFont(NOTO_SANS).getGlyphOrder()) / 2, glyphs


def test_a_name_outside_the_latin_scripts_is_stamped_in_the_full_face() -> None:
    assert face_for("Ký bởi: Алексей Смирнов") == NOTO_SANS
    assert face_for("Ký bởi: Νίκος") == NOTO_SANS
    assert face_for("Ký bởi: Nguyễn Thị Ánh\nGiáo viên") != NOTO_SANS


def _embedded_program(font_factory, text: str) -> tuple[frozenset[int], ttLib.TTFont]:
    """The glyphs a stamp engine of ``font_factory`` used for ``text``, and the font program it would embed."""
    import io

    from pyhanko.pdf_utils.writer import PdfFileWriter

    engine = font_factory.create_font_engine(PdfFileWriter())
    engine.shape(text)
    engine._extract_subset()  # what pyHanko's prepare_write does before writing the program
    out = io.BytesIO()
    engine.cidfont_obj.tt_font.save(out)
    return frozenset(engine._glyphs), ttLib.TTFont(io.BytesIO(out.getvalue()))


def _outlines(font: ttLib.TTFont, glyphs: frozenset[int]) -> dict[int, bytes]:
    glyf = font["glyf"]
    return {gid: glyf[font.getGlyphName(gid)].compile(glyf) for gid in sorted(glyphs)}


def test_the_reused_cut_embeds_what_pyhanko_s_own_cut_embeds_and_the_date_s_characters() -> None:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory

    from services.signing.documents.stamp_face import ALWAYS_KEPT, StampFont

    text = "Ký bởi: Nguyễn Thị Ánh\nGiáo viên chủ nhiệm\nNgày ký: 07/12/2026 10:40"
    face = str(face_for(text))
    theirs_used, theirs = _embedded_program(GlyphAccumulatorFactory(face), text)
    ours_used, ours = _embedded_program(StampFont(face), text)
    assert ours_used == theirs_used  # the same shaping
    assert _outlines(ours, theirs_used) == _outlines(
        theirs, theirs_used
    )  # the same outlines for every glyph used
    assert all(
        ours["hmtx"][ours.getGlyphName(g)] == theirs["hmtx"][theirs.getGlyphName(g)] for g in theirs_used
    )
    # ... plus the digits and the date's punctuation, whatever this stamp's time was: 3, 5, 8, 9 are not in it.
    cmap, whole = ttLib.TTFont(face).getBestCmap(), ttLib.TTFont(face)
    for digit in "3589":
        gid = whole.getGlyphID(cmap[ord(digit)])
        assert ours["glyf"][ours.getGlyphName(gid)].numberOfContours > 0, digit
        assert theirs["glyf"][theirs.getGlyphName(gid)].numberOfContours == 0, digit
    assert set(ALWAYS_KEPT) == set("0123456789/: ")


def test_one_signer_s_stamps_at_different_times_share_one_cut() -> None:
    from services.signing.documents import stamp_face

    face = str(face_for("Ký bởi: Trần Văn Bảo"))
    stamp_face._cut.cache_clear()
    for minute in ("10:41", "10:52", "11:07", "23:59"):
        _embedded_program(stamp_face.StampFont(face), f"Ký bởi: Trần Văn Bảo\nNgày ký: 07/12/2026 {minute}")
    assert stamp_face._cut.cache_info().misses == 1
    _embedded_program(stamp_face.StampFont(face), "Ký bởi: Lê Thị Hoa\nNgày ký: 07/12/2026 10:41")
    assert stamp_face._cut.cache_info().misses == 2  # another name: its own cut
