"""The public verification page (Werkzeug WSGI): upload a học bạ PDF, and optionally its signed XML, read the verdict.

``GET /`` the form; ``POST /`` the report in Vietnamese under the form; ``POST /api/verify`` the same report as
JSON for machines (the province gateway). Nothing uploaded is stored.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from asn1crypto import x509 as asn1_x509
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from services.signing.verifier import Unreadable, verify
from services.signing.verifier.limits import (
    DEFAULT_BUDGET,
    Budget,
    MiB,
    OutOfMemory,
    TimeLimit,
    TooLarge,
    deadline,
)
from services.signing.verifier.report import STYLE_CSP_SOURCE, html_body, page

MAX_UPLOAD = 25 * 1024 * 1024  # a học bạ PDF is ~200 KB; anything near this is not one
# On every answer: no script, no framing (clickjacking the upload form), the page's own inline style only, forms
# post back here, no Referer to other sites, no content sniffing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {STYLE_CSP_SOURCE}; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

TOO_LARGE = (
    "Tệp tải lên giải nén ra quá nhiều dữ liệu (hơn {mb} MB), vượt quá giới hạn kiểm tra nên không được kiểm tra. "
    "Một học bạ số thật chỉ nặng vài trăm KB."
)
OUT_OF_MEMORY = (
    "Tệp tải lên cần quá nhiều bộ nhớ để kiểm tra, vượt quá giới hạn nên không được kiểm tra. "
    "Một học bạ số thật chỉ nặng vài trăm KB."
)
TOO_SLOW = (
    "Việc kiểm tra vượt quá thời gian cho phép ({seconds} giây) nên đã dừng lại; tệp này không được kiểm tra. "
    "Một học bạ số thật được kiểm tra trong vài giây."
)

FORM = """
<h1>Kiểm tra học bạ số</h1>
<p>Tải lên tệp PDF học bạ (và gói XML ký số nếu có) để kiểm tra chữ ký, thứ tự ký và tính toàn vẹn.
Tệp không được lưu lại.</p>
<form method="post" action="/" enctype="multipart/form-data">
  <p><label>Tệp PDF học bạ: <input type="file" name="pdf" accept="application/pdf,.pdf" required></label></p>
  <p><label>Gói XML ký số (không bắt buộc): <input type="file" name="xml" accept=".xml,application/xml"></label></p>
  <p><button type="submit" id="submit">Kiểm tra</button></p>
</form>
"""


def _read(upload: FileStorage | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    return upload.stream.read()


class VerifierApp:
    """A WSGI application; ``trust_roots`` are fixed at start-up (from configuration), never taken from a request.

    Each verification decodes at most ``budget`` and runs at most ``time_limit`` seconds (where the server runs it
    in a main thread, as gunicorn's sync workers do); either refusal answers at once, in Vietnamese. ``retire`` is
    called after a verification ran out of memory (the worker's RLIMIT_AS): the server replaces that worker.
    """

    def __init__(
        self,
        trust_roots: Sequence[asn1_x509.Certificate],
        *,
        online: bool = False,
        budget: Budget = DEFAULT_BUDGET,
        time_limit: float | None = None,
        retire: Callable[[], None] | None = None,
    ) -> None:
        self.trust_roots = list(trust_roots)
        self.online = online
        self.budget = budget
        self.time_limit = time_limit
        self.retire = retire

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_UPLOAD
        try:
            response = self.dispatch(request)
        except RequestEntityTooLarge:
            response = self._page("Tệp quá lớn", "<p>Tệp tải lên quá lớn (tối đa 25 MB).</p>", 413)
        except HTTPException as error:
            response = error.get_response(environ)  # type: ignore[assignment]
        response.headers.update(SECURITY_HEADERS)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path not in ("/", "/api/verify"):
            raise NotFound()
        if request.method == "GET" and request.path == "/":
            return self._page("Kiểm tra học bạ số", FORM)
        if request.method != "POST":
            raise MethodNotAllowed(["GET", "POST"] if request.path == "/" else ["POST"])
        pdf, xml = _read(request.files.get("pdf")), _read(request.files.get("xml"))
        api = request.path == "/api/verify"
        if not pdf:
            return self._problem(api, "Chưa chọn tệp PDF.", 400)
        try:
            with deadline(self.time_limit):
                report = verify(
                    pdf, xml, trust_roots=self.trust_roots, online=self.online, budget=self.budget
                )
        except TimeLimit as error:
            # Vietnamese writes the decimal comma: 0,5 giây.
            return self._problem(api, TOO_SLOW.format(seconds=f"{error.seconds:g}".replace(".", ",")), 422)
        except (OutOfMemory, MemoryError):
            # The worker's address-space limit: what failed to allocate may have left it in any state.
            if self.retire is not None:
                self.retire()
            return self._problem(api, OUT_OF_MEMORY, 413)
        except TooLarge:
            return self._problem(api, TOO_LARGE.format(mb=self.budget.total // MiB), 413)
        except Unreadable as error:
            return self._problem(api, f"Không đọc được tệp đã tải lên ({error}).", 422)
        if api:
            return Response(report.to_json(), mimetype="application/json")
        return self._page("Kết quả kiểm tra học bạ số", FORM + "<hr>" + html_body(report))

    def _problem(self, api: bool, detail: str, status: int) -> Response:
        if api:  # RFC 9457, like the other services' errors
            body = f'{{"type": "about:blank", "status": {status}, "detail": {_json_str(detail)}}}'
            return Response(body, status=status, mimetype="application/problem+json")
        return self._page(
            "Không kiểm tra được",
            FORM + f'<hr><div class="verdict TOTAL_FAILED" id="verdict">{html.escape(detail)}</div>',
            status,
        )

    @staticmethod
    def _page(title: str, body: str, status: int = 200) -> Response:
        return Response(page(title, body), status=status, mimetype="text/html")


def _json_str(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)
