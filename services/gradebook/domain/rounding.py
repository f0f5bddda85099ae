"""Decimal arithmetic for averages: one decimal, half up, as the circular means it (never binary floats)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")


def dec(value: object) -> Decimal:
    """A JSON number or text as an exact Decimal ("7.5", 7.5 and 7.50 are all Decimal("7.5")).

    Going through ``str`` matters: Decimal(6.95) is 6.9500000000000001776…, Decimal(str(6.95)) is 6.95."""
    return Decimal(str(value))


def round1(value: Decimal) -> Decimal:
    """One decimal, half up: 55.6 / 8 = 6.95 → 7.0 (float rounding would give 6.9)."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def has_one_decimal_at_most(value: Decimal) -> bool:
    return value == value.quantize(ONE_DECIMAL)
