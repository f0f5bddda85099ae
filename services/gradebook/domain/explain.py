"""Explained values: a computed result with the rule and the numbers behind it, written for Vietnamese staff."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

TERM_LABEL = {"hk1": "học kỳ I", "hk2": "học kỳ II", "year": "cả năm"}
TERM_ROMAN = {"hk1": "I", "hk2": "II"}
LEVEL_STEPS = {1: "một mức", 2: "hai mức", 3: "ba mức"}


@dataclass(frozen=True)
class Explained:
    """A computed value and, in Vietnamese, the rule and the numbers behind it."""

    value: Any
    why: str


def vn(value: Decimal | int) -> str:
    """A number as Vietnamese users write it: decimal comma ("7,8")."""
    return str(value).replace(".", ",")


def vn_plain(value: Decimal) -> str:
    """Like ``vn`` without trailing zeros: a sum of 70.0 reads "70", 62.50 reads "62,5"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def vn_quotient(exact: Decimal) -> str:
    """An exact quotient before rounding: shown whole when it ends within three decimals (55,6 / 8 = 6,95, so
    the reader sees the tie), otherwise cut — not rounded — after three decimals and marked "…" (62,5 / 9 = 6,944…)."""
    cut = exact.quantize(Decimal("0.001"), rounding=ROUND_DOWN)
    if cut == exact:
        return vn_plain(exact)
    return f"{vn(cut)}…"
