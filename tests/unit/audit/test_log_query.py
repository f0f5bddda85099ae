"""The audit log's query string: what PostgreSQL could not compare is refused as the caller's 422."""

import pytest
from pydantic import ValidationError

from services.audit.app.handlers import LogQuery
from services.runtime.http import validation_problem


@pytest.mark.parametrize("after", [str(2**63), "-1", "99999999999999999999999"])
def test_a_sequence_number_outside_bigint_is_a_validation_problem(after):
    with pytest.raises(ValidationError) as refused:
        LogQuery.model_validate({"after": after})
    problem = validation_problem(refused.value)
    assert problem.status == 422 and [e["field"] for e in problem.extensions["errors"]] == ["after"]


def test_the_largest_bigint_is_a_sequence_number():
    assert LogQuery.model_validate({"after": str(2**63 - 1)}).after == 2**63 - 1
