"""bench gradebook times the API's work only: tokens minted before, connections kept across requests."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cli.bench.gradebook import timed_writes


def test_the_score_writes_reuse_their_connections_and_send_the_tokens_they_are_given():
    seen = {"connections": 0, "authorizations": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the gradebook's server does

        def setup(self) -> None:
            super().setup()
            seen["connections"] += 1

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen["authorizations"].append(self.headers["Authorization"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requests = [(f"/classes/c{i}/marks", f"Bearer t{i % 3}", {"entries": [i]}) for i in range(30)]
        seconds = timed_writes(f"http://127.0.0.1:{server.server_port}", requests, concurrency=10)
    finally:
        server.shutdown()
    assert seconds > 0
    assert sorted(seen["authorizations"]) == sorted(a for _, a, _ in requests)
    assert 1 <= seen["connections"] <= 10 < len(requests)
