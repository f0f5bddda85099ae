"""The signing client (`hocba sign`, the demo, the load and chaos drivers) sends the same signature values again
while the signing service answers 503 (its timestamp authority is down for a moment), and gives up on anything else."""

from __future__ import annotations

import httpx
import pytest

import cli.signer_client
from cli.signer_client import _send_signatures
from services.runtime import http_client


def _client(answers: list[int], seen: list[bytes]) -> httpx.Client:
    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(answers.pop(0), json={"signed": [], "refused": []})

    return http_client.client(base_url="http://signing", transport=httpx.MockTransport(respond))


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch):
    monkeypatch.setattr(cli.signer_client, "AGAIN_AFTER", (0.0,) * len(cli.signer_client.AGAIN_AFTER))


def test_the_same_values_go_again_after_a_503_until_they_are_taken():
    seen: list[bytes] = []
    with _client([503, 503, 200], seen) as signing:
        assert (
            _send_signatures(signing, "/signing/batches/b/signatures", {"signatures": [1]}).status_code == 200
        )
    assert len(seen) == 3 and len(set(seen)) == 1


def test_a_503_that_outlasts_every_pause_is_raised():
    seen: list[bytes] = []
    with _client([503] * 10, seen) as signing, pytest.raises(httpx.HTTPStatusError, match="503"):
        _send_signatures(signing, "/p", {})
    assert len(seen) == len(cli.signer_client.AGAIN_AFTER) + 1


@pytest.mark.parametrize("status", [400, 409, 422, 500])
def test_anything_else_is_raised_at_once(status):
    seen: list[bytes] = []
    with _client([status, 200], seen) as signing, pytest.raises(httpx.HTTPStatusError):
        _send_signatures(signing, "/p", {})
    assert len(seen) == 1
