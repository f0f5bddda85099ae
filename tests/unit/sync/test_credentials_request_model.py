"""The school's gateway token goes back to the gateway in a header: one that cannot be sent is refused when stored."""

import pytest
from pydantic import ValidationError

from services.runtime.http import validation_problem
from services.sync.api import CredentialsIn


@pytest.mark.parametrize(
    "token", ["mã-bí-mật-của-trường", "token with spaces", "token\x00\x01\x02", "tok\u0b1een123"]
)
def test_a_token_that_cannot_travel_in_a_header_is_a_validation_problem(token):
    with pytest.raises(ValidationError) as refused:
        CredentialsIn.model_validate({"token": token})
    problem = validation_problem(refused.value)
    assert problem.status == 422 and problem.extensions["errors"][0]["field"] == "token"
    assert problem.extensions["errors"][0]["message"] == "sai định dạng"


def test_a_gateway_token_of_visible_ascii_is_stored_as_sent():
    token = "eyJhbGciOi.J-_~+/=9Zx"
    assert CredentialsIn.model_validate({"token": token}).token == token
