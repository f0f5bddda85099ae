"""Every outgoing HTTP client shares the process's TLS context (httpx would load the CA bundle for each one)."""

from __future__ import annotations

import ast
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from services.runtime import http_client

ROOT = Path(__file__).resolve().parents[3]
# httpx's calls that build a client, and with it a TLS context of their own.
OWN_CONTEXT = {"Client", "get", "post", "put", "delete", "patch", "request", "stream", "head", "options"}


def _context(client: httpx.Client) -> object:
    return client._transport._pool._ssl_context  # type: ignore[attr-defined]


def test_clients_share_one_context_unless_told_otherwise() -> None:
    first, second = http_client.client(), http_client.client(base_url="http://127.0.0.1:1", timeout=3)
    assert _context(first) is _context(second) is http_client.tls_context()
    assert second.timeout == httpx.Timeout(3)
    assert _context(http_client.client(verify=False)) is not http_client.tls_context()


class _Echo(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(f"{self.path} {self.headers['X-Who']} ".encode() + body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_single_call_sends_the_request_arguments_and_gives_the_client_its_own() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = http_client.put(
            f"http://127.0.0.1:{server.server_port}/x",
            params={"q": "1"},
            headers={"X-Who": "clerk"},
            content=b"body",
            timeout=5,
        )
    finally:
        server.shutdown()
    assert (answer.status_code, answer.text) == (201, "/x?q=1 clerk body")


def test_nothing_builds_an_httpx_client_but_http_client() -> None:
    found = []
    for folder in ("services", "cli", "sandbox", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "services/runtime/http_client.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "httpx"
                    and node.func.attr in OWN_CONTEXT
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} httpx.{node.func.attr}(")
    assert found == [], "use services.runtime.http_client instead:\n" + "\n".join(found)
