"""What the portal discloses: masks, the birth-date check, and the TT27 words it prints for the XML's codes."""

from datetime import date

import pytest

from sandbox.gateway.domain import disclosure
from services.gradebook.domain import tt27


def test_the_personal_id_keeps_only_its_last_three_digits_and_the_birth_date_only_its_year():
    assert disclosure.mask_personal_id("001212345678") == "*********678"
    assert disclosure.mask_personal_id("") == ""
    assert disclosure.mask_birth_date(date(2012, 9, 5)) == "**/**/2012"
    assert disclosure.mask_birth_date(None) == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("05/09/2012", date(2012, 9, 5)),
        ("5/9/2012", date(2012, 9, 5)),
        (" 05-09-2012 ", date(2012, 9, 5)),
        ("2012-09-05", date(2012, 9, 5)),
        ("31/02/2012", None),
        ("09/2012", None),
        ("", None),
    ],
)
def test_a_birth_date_is_read_as_a_reader_types_it(typed, expected):
    assert disclosure.parse_birth_date(typed) == expected


def test_only_the_recorded_birth_date_matches_and_a_record_without_one_never_does():
    born = date(2012, 9, 5)
    assert disclosure.birth_date_matches(born, born)
    assert not disclosure.birth_date_matches(date(2012, 5, 9), born)
    assert not disclosure.birth_date_matches(None, born)
    assert not disclosure.birth_date_matches(born, None)


def test_the_portals_trait_words_are_the_circulars_names():
    """The gateway is an outside system with its own copy of the vocabulary; it must say what the gradebook says."""
    assert {k: v.lower() for k, v in disclosure.QUALITY_NAMES.items()} == tt27.QUALITY_NAMES
    assert {k: v.lower() for k, v in disclosure.COMPETENCY_NAMES.items()} == tt27.COMPETENCY_NAMES
    assert disclosure.TRAIT_LEVELS == tt27.QUALITY_LEVELS
    assert disclosure.trait(disclosure.QUALITY_NAMES, "cham_chi", "T") == ("Chăm chỉ", "Tốt")
