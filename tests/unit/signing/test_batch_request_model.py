"""The deferred-signing API's request models refuse what cannot be decoded, so the caller gets a 422, not a 500."""

import pytest
from pydantic import ValidationError

from services.runtime.http import validation_problem
from services.signing.api import PrepareBatchIn


@pytest.mark.parametrize(
    "body",
    [
        {"class_id": "7a1", "certificate": "không phải chứng thư"},
        {"class_id": "7a1", "certificate": "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----"},
        {"class_id": "7a1", "chain": ["AAAA", "%%%"]},
    ],
)
def test_a_certificate_that_is_neither_pem_nor_base64_is_a_validation_problem(body):
    with pytest.raises(ValidationError) as refused:
        PrepareBatchIn.model_validate(body)
    problem = validation_problem(refused.value)
    assert problem.status == 422
    assert problem.extensions["errors"][0]["field"] in ("certificate", "chain")


def test_a_base64_certificate_and_chain_are_accepted_as_sent():
    body = PrepareBatchIn.model_validate({"class_id": "7a1", "certificate": "AAAA", "chain": ["AAAA"]})
    assert body.certificate_der() == b"\x00\x00\x00" and body.chain_der() == [b"\x00\x00\x00"]
