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
