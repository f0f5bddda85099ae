"""The one check of an entered score, for the rules CLI and the API alike: TT22 scores and TT27 periodic tests."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from services.gradebook.domain.errors import GradebookError
from services.gradebook.domain.rounding import dec, has_one_decimal_at_most

# A score comes as a JSON number or, as the gradebook stores it, as decimal text ("7.5"); nothing else (no "NaN",
# no exponent, no spaces) so that text cannot smuggle in what a number could not.
_DECIMAL_TEXT = re.compile(r"\d{1,2}(\.\d+)?")


class ScoreInvalid(GradebookError):
    """A score breaks the circular: ``field`` names it, ``problem`` says why in English (the CLI's message),
    ``detail_vi`` in Vietnamese (the API's). Each caller turns it into its own error."""

    http_status = 422
    slug = "score-invalid"
    title = "Score is invalid"

    def __init__(self, field: str, problem: str, detail_vi: str) -> None:
        super().__init__(detail_vi, log=f"{field}: {problem}")
        self.field, self.problem = field, problem


def _number(value: Any) -> Decimal | None:
    """``value`` as an exact Decimal when it is a number or decimal text, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
        return None
    number = dec(value)
    return number if number.is_finite() else None


def tt22_score(value: Any, field: str) -> Decimal:
    """TT22 art. 6: a score is 0–10, an integer or one decimal; returned in its canonical form (7.0 → 7)."""
    number = _number(value)
    if number is None:
        raise ScoreInvalid(field, f"must be a score 0–10, got {value!r}", f"“{value}” không phải là điểm số.")
    if not 0 <= number <= 10:
        raise ScoreInvalid(
            field, f"score must be within 0–10, got {value}", f"Điểm phải từ 0 đến 10, nhận được {value}."
        )
    if not has_one_decimal_at_most(number):
        raise ScoreInvalid(
            field,
            f"score has at most one decimal, got {value}",
            f"Điểm chỉ có tối đa một chữ số thập phân, nhận được {value}.",
        )
    # One form for one score, whichever way it came (7, 7.0, "7.0"): the form the gradebook stores, so that the
    # reasons quote it the same for the CLI and the API.
    return dec(score_text(number))


def tt27_test_score(value: Any, field: str) -> int:
    """TT27 art. 7: a periodic test is scored 1–10 without decimals (9.0 is accepted as 9, 7.5 is not)."""
    number = _number(value)
    if number is None or number != number.to_integral_value() or not 1 <= number <= 10:
        raise ScoreInvalid(
            field,
            f"must be a periodic test score, an integer 1–10, got {value!r}",
            f"Điểm kiểm tra định kỳ là số nguyên từ 1 đến 10, nhận được {value}.",
        )
    return int(number)


def score_text(number: Decimal) -> str:
    """A valid score as the gradebook stores it: canonical decimal text ("7.5", "8")."""
    text = format(number.quantize(Decimal("0.1")), "f")
    return text[:-2] if text.endswith(".0") else text
