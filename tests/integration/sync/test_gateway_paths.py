"""A record id a caller chose reaches the province's gateway as one quoted path segment, whatever it holds."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.sync.adapters.gateway import GatewayClient

pytestmark = pytest.mark.integration


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that answers 404 to everything and keeps each raw request path."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("record_id", "path"),
    [
        ("R\x94\x0b\x8a", "/api/v1/records/R%C2%94%0B%C2%8A/pdf"),
        ("../../transfers", "/api/v1/records/..%2F..%2Ftransfers/pdf"),
        ("gw-1?x=1#y", "/api/v1/records/gw-1%3Fx%3D1%23y/pdf"),
    ],
)
def test_a_caller_s_record_id_reaches_the_gateway_as_one_quoted_segment(gateway, record_id, path):
    url, seen = gateway
    client = GatewayClient(url)
    assert client.download("token", record_id, "pdf") == (404, b"")
    assert client.withdraw("token", record_id, "Rút thử").status == 404
    assert seen == [path, path.replace("/pdf", "/withdraw")]
