"""Transfer requests' pure rules: the lookup code as people type or scan it, and when a request can be decided."""

import uuid

import pytest

from services.sync.domain.transfers import already_decided, normalise_lookup_code


def test_a_lookup_code_is_read_as_printed_or_as_a_uuid_with_capitals_and_hyphens():
    code = uuid.uuid4().hex
    spelt = str(uuid.UUID(code))
    assert normalise_lookup_code(code) == code
    assert normalise_lookup_code(spelt.upper()) == code
    assert normalise_lookup_code(f" {spelt} ") == code


@pytest.mark.parametrize("typed", ["", "0" * 31, "0" * 33, "g" * 32, "hs-12345678901234567890123456789"])
def test_anything_else_is_no_lookup_code(typed):
    assert normalise_lookup_code(typed) is None


def test_only_a_waiting_request_can_be_decided_and_the_refusal_says_how_it_ended():
    assert already_decided("pending") is None
    assert already_decided("approved") == "Yêu cầu chuyển trường này đã được xử lý (đã đồng ý)."
    assert already_decided("refused") == "Yêu cầu chuyển trường này đã được xử lý (đã từ chối)."
