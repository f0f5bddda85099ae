"""Decimal arithmetic for averages: one decimal, half up, as the circular means it (never binary floats)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")


def dec(value: object) -> Decimal:
    """A JSON number or text as an exact Decimal ("7.5", 7.5 and 7.50 are all Decimal("7.5"))."""
    return Decimal(str(value))


def round1(value: Decimal) -> Decimal:
    """One decimal, half up: 55.6 / 8 = 6.95 → 7.0 (float rounding would give 6.9)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def vn(value: Decimal | int) -> str:
    """A number as Vietnamese users write it: decimal comma ("7,8")."""
    return str(value).replace(".", ",")


def vn_plain(value: Decimal) -> str:
    """Like ``vn`` without trailing zeros: a sum of 70.0 reads "70", 62.50 reads "62,5"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")
