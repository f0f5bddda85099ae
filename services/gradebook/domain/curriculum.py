"""Subjects of the 2018 general education programme (CT GDPT 2018) and how each is assessed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Level = Literal["primary", "lower_secondary", "upper_secondary"]


class Assessment(StrEnum):
    SCORE = "score"  # TT22: comment combined with scores 0–10
    COMMENT = "comment"  # TT22: comment only, Đ / CĐ
    LEVEL = "level"  # TT27: T / H / C, some with a periodic test


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    assessment: Assessment


_SECONDARY_SCORED = {
    "ngu_van": "Ngữ văn",
    "toan": "Toán",
    "ngoai_ngu_1": "Ngoại ngữ 1",
    "gdcd": "Giáo dục công dân",
    "lich_su_dia_li": "Lịch sử và Địa lí",
    "khtn": "Khoa học tự nhiên",
    "cong_nghe": "Công nghệ",
    "tin_hoc": "Tin học",
    "vat_li": "Vật lí",
    "hoa_hoc": "Hoá học",
    "sinh_hoc": "Sinh học",
    "lich_su": "Lịch sử",
    "dia_li": "Địa lí",
    "gd_ktpl": "Giáo dục kinh tế và pháp luật",
    "gdqp_an": "Giáo dục quốc phòng và an ninh",
}
_SECONDARY_COMMENT = {
    "gdtc": "Giáo dục thể chất",
    "nghe_thuat": "Nghệ thuật",
    "am_nhac": "Âm nhạc",
    "mi_thuat": "Mĩ thuật",
    "hdtn": "Hoạt động trải nghiệm, hướng nghiệp",
    "gddp": "Nội dung giáo dục của địa phương",
}
_PRIMARY = {
    "tieng_viet": "Tiếng Việt",
    "toan": "Toán",
    "ngoai_ngu_1": "Ngoại ngữ 1",
    "lich_su_dia_li": "Lịch sử và Địa lí",
    "khoa_hoc": "Khoa học",
    "tin_hoc_cong_nghe": "Tin học và Công nghệ",
    "dao_duc": "Đạo đức",
    "tu_nhien_xa_hoi": "Tự nhiên và Xã hội",
    "am_nhac": "Âm nhạc",
    "mi_thuat": "Mĩ thuật",
    "gdtc": "Giáo dục thể chất",
    "hdtn": "Hoạt động trải nghiệm",
}


def level_of_grade(grade: int) -> Level:
    if 1 <= grade <= 5:
        return "primary"
    if 6 <= grade <= 9:
        return "lower_secondary"
    if 10 <= grade <= 12:
        return "upper_secondary"
    raise ValueError(f"grade must be 1–12, got {grade}")


def circular_of_grade(grade: int) -> Literal["tt22", "tt27"]:
    return "tt27" if level_of_grade(grade) == "primary" else "tt22"


def subject(code: str, grade: int) -> Subject:
    """The subject ``code`` as taught in ``grade``; KeyError names the codes that exist there."""
    if level_of_grade(grade) == "primary":
        if code in _PRIMARY:
            return Subject(code, _PRIMARY[code], Assessment.LEVEL)
        known = _PRIMARY
    else:
        if code in _SECONDARY_SCORED:
            return Subject(code, _SECONDARY_SCORED[code], Assessment.SCORE)
        if code in _SECONDARY_COMMENT:
            return Subject(code, _SECONDARY_COMMENT[code], Assessment.COMMENT)
        known = {**_SECONDARY_SCORED, **_SECONDARY_COMMENT}
    raise KeyError(f"unknown subject {code!r} for grade {grade}; known: {', '.join(sorted(known))}")


def regular_assessments(periods_per_year: int) -> int:
    """TT22 art. 6: up to 35 periods a year → 2 regular assessments a term; up to 70 → 3; more → 4."""
    if periods_per_year <= 35:
        return 2
    if periods_per_year <= 70:
        return 3
    return 4
