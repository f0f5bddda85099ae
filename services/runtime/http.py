"""HTTP helpers: pydantic request validation, RFC 9457 problem+json errors, body limits, health, readiness, metrics."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any, Literal, TypeVar

from kombu import Connection
from nameko.timer import timer
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from services.runtime import metrics
from services.runtime.auth import AuthError, require_caller
from services.runtime.failures import is_transient
from services.runtime.handlers import broker_links
from services.runtime.logging import correlation, get_logger
from services.runtime.settings import get_settings

log = get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

PROBLEM_BASE = "https://hocba.vn/problems/"

_VI_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép",
    "json_invalid": "JSON không hợp lệ",
    "string_type": "phải là chuỗi ký tự",
    "int_parsing": "phải là số nguyên",
    "int_type": "phải là số nguyên",
    "float_parsing": "phải là số",
    "decimal_parsing": "phải là số",
    "literal_error": "giá trị không nằm trong danh sách cho phép",
    "enum": "giá trị không nằm trong danh sách cho phép",
    "greater_than_equal": "giá trị quá nhỏ",
    "less_than_equal": "giá trị quá lớn",
    "string_pattern_mismatch": "sai định dạng",
    "string_too_long": "quá dài",
    "string_too_short": "quá ngắn",
}


class Problem(Exception):
    """An error to show the caller as application/problem+json: English ``title``, Vietnamese ``detail``."""

    def __init__(self, status: int, slug: str, title: str, detail_vi: str, **extensions: Any) -> None:
        super().__init__(f"{status} {slug}: {title}")
        self.status, self.slug, self.title, self.detail_vi, self.extensions = (
            status,
            slug,
            title,
            detail_vi,
            extensions,
        )

    def response(self, instance: str | None = None) -> Response:
        body = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail_vi,
            **({"instance": instance} if instance else {}),
            **self.extensions,
        }
        return Response(
            json.dumps(body, ensure_ascii=False), status=self.status, mimetype="application/problem+json"
        )


def validation_problem(error: ValidationError) -> Problem:
    errors = [
        {
            "field": ".".join(str(p) for p in e["loc"]) or "(body)",
            "message": _VI_MESSAGES.get(e["type"], "giá trị không hợp lệ"),
            "reason": e["msg"],
        }
        for e in error.errors(include_url=False, include_input=False)
    ]
    fields = ", ".join(e["field"] for e in errors[:5])
    return Problem(
        422,
        "validation",
        "Request body is invalid",
        f"Dữ liệu gửi lên không hợp lệ ở: {fields}.",
        errors=errors,
    )


def _nul_problem(fields: list[str]) -> Problem:
    """PostgreSQL's text cannot hold a NUL character (psycopg refuses it: a 500 if it got that far)."""
    return Problem(
        422,
        "validation",
        "Request is invalid",
        f"Dữ liệu gửi lên không hợp lệ ở: {', '.join(fields[:5])}.",
        errors=[
            {"field": f, "message": "chứa ký tự NUL không được phép", "reason": "NUL character"}
            for f in fields
        ],
    )


def _nul_fields(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    if isinstance(value, str):
        return [".".join(path) or "(body)"] if "\x00" in value else []
    if isinstance(value, dict):
        return [f for key, item in value.items() for f in _nul_fields(item, (*path, str(key)))]
    if isinstance(value, list | tuple):
        return [f for i, item in enumerate(value) for f in _nul_fields(item, (*path, str(i)))]
    return []


def parse_body(request: Request, model: type[M]) -> M:
    """Validate the JSON body against ``model``; a bad body is a 422 problem naming each field, and so is text
    holding a NUL character (only escaped in JSON: the raw text tells whether to look)."""
    raw = request.get_data(as_text=True)
    try:
        body = model.model_validate_json(raw or "{}")
    except ValidationError as error:
        raise validation_problem(error) from None
    if "\\u0000" in raw and (fields := _nul_fields(body.model_dump())):
        raise _nul_problem(fields)
    return body


def parse_query(request: Request, model: type[M]) -> M:
    """Validate the query string against ``model``; a bad parameter is a 422 problem naming it (one with a NUL
    never gets here: ProblemWsgiApp refuses it for every route)."""
    try:
        return model.model_validate(dict(request.args))
    except ValidationError as error:
        raise validation_problem(error) from None


def json_response(payload: Any, status: int = 200) -> Response:
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str), status=status, mimetype="application/json"
    )


def request_correlation_id(request: Request) -> str:
    """The id ApiHandler bound to this request (the caller's X-Correlation-Id, or a new one)."""
    return str(
        request.environ.get("hocba.correlation_id") or request.headers.get("X-Correlation-Id") or uuid.uuid4()
    )


def problem_for(exc: BaseException) -> Problem:
    """Map any exception to a problem. Services mark their errors with ``http_status``/``slug``/``detail_vi``."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, AuthError):
        slug = {401: "unauthorized", 404: "not-found"}.get(exc.status, "forbidden")
        return Problem(exc.status, slug, exc.title, exc.detail_vi)
    if isinstance(exc, ValidationError):
        return validation_problem(exc)
    status = getattr(exc, "http_status", None)
    if status is not None:
        return Problem(
            status,
            getattr(exc, "slug", type(exc).__name__),
            getattr(exc, "title", type(exc).__name__),
            getattr(exc, "detail_vi", "Yêu cầu không thực hiện được."),
            **getattr(exc, "problem_extensions", dict)(),
        )
    if is_transient(exc):
        # The database (or another dependency) went away under the request: a failover, a restart, a terminated
        # backend. A 503 says "the same request may pass in a moment", which clients and proxies retry; a 500 does not.
        return Problem(
            503,
            "temporarily-unavailable",
            "Service Unavailable",
            "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau giây lát.",
        )
    return Problem(500, "internal", "Internal Server Error", "Lỗi hệ thống, vui lòng thử lại sau.")


BodyLimit = Literal["default", "upload"] | int


def body_limit_bytes(limit: BodyLimit) -> int:
    """A route's largest accepted body: the settings' default, their upload limit, or its own number."""
    settings = get_settings()
    if limit == "default":
        return settings.http_max_body_bytes
    if limit == "upload":
        return settings.http_max_upload_bytes
    return limit


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "content-too-large",
        "Content Too Large",
        f"Dữ liệu gửi lên quá lớn: tối đa {limit:,} byte cho yêu cầu này.".replace(",", "."),
        max_bytes=limit,
    )


def _chunked(request: Request) -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def refuse_before_reading(request: Request, limit: int) -> None:
    """What is refused before a byte of the body is read: a declared length over ``limit`` (413), then a request
    that carries a body without a valid bearer token (401; no route here reads a body from an anonymous caller, and
    an anonymous chunked body would otherwise be buffered up to the limit first)."""
    length = request.content_length
    if length is not None and length > limit:
        raise _too_large(limit)
    if length or _chunked(request):
        require_caller(get_settings(), request.headers.get("Authorization"))


def read_body_within(request: Request, limit: int) -> None:
    """Refuse a body over ``limit`` before anything parses it: from Content-Length without reading a byte, and
    while reading a chunked body (which has none). The accepted body is left for ``get_data`` as usual."""
    length = request.content_length
    if length is not None:
        if length > limit:
            raise _too_large(limit)
        return  # werkzeug reads no further than Content-Length
    if not _chunked(request):
        return  # no body (werkzeug reads none without a length)
    # eventlet decodes the chunks but does not set wsgi.input_terminated, so werkzeug would read an empty body:
    # read it here, at most one byte past the limit, and hand werkzeug the bytes with their length.
    stream, chunks, size = request.environ["wsgi.input"], [], 0
    while size <= limit and (chunk := stream.read(min(65536, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise _too_large(limit)
    body = b"".join(chunks)
    # A finite stream now: werkzeug reads it whole once told the server terminated it (its length is ignored
    # while the Transfer-Encoding header still says chunked).
    request.environ["wsgi.input"], request.environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    request.environ["wsgi.input_terminated"] = True
    request.__dict__.pop("stream", None)  # a cached_property; not read yet, but never stale


def routing_problem(exc: HTTPException, method: str) -> Problem:
    """A request no route takes (unknown path, or a ``<any(pdf, xml):kind>`` it does not match; a method the path
    does not take), as a problem in Vietnamese like every other refusal."""
    if isinstance(exc, MethodNotAllowed):
        return Problem(
            405,
            "method-not-allowed",
            "Method Not Allowed",
            f"Địa chỉ này không nhận phương thức {method}.",
            allowed=sorted(exc.valid_methods or []),
        )
    if exc.code == 404:
        return Problem(404, "not-found", "Not Found", "Không tìm thấy địa chỉ này.")
    return Problem(exc.code or 400, "bad-request", exc.name, "Yêu cầu không hợp lệ.")


class ProblemWsgiApp(WsgiApp):
    """nameko's WSGI app, but werkzeug's routing refusals (HTML pages) are answered as problem+json."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ, shallow=True)  # as nameko's: nothing reads the body before the handler
        # PostgreSQL's text cannot hold a NUL: an id with one names nothing, a query parameter with one is refused,
        # for every route at once (some read request.args themselves).
        if "\x00" in environ.get("PATH_INFO", ""):
            return routing_problem(NotFound(), request.method).response()(environ, start_response)
        if nul := sorted({name for name, value in request.args.items(multi=True) if "\x00" in name + value}):
            return _nul_problem(nul).response()(environ, start_response)
        try:
            provider, values = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            if exc.code is not None and 400 <= exc.code < 500:
                problem = routing_problem(exc, request.method)
                return problem.response()(environ, start_response)
            return exc(environ, start_response)  # a redirect (a missing trailing slash)
        request.path_values = values  # type: ignore[attr-defined]  # nameko reads it back (its own attribute)
        try:
            response = provider.handle_request(request)
        except HTTPException as exc:
            response = exc
        return response(environ, start_response)


class ProblemWebServer(WebServer):
    """The one web server of every service (all our entrypoints are ApiHandler's)."""

    def get_wsgi_app(self) -> ProblemWsgiApp:
        return ProblemWsgiApp(self)


class ApiHandler(HttpRequestHandler):
    """nameko's @http, but every error becomes problem+json, no stack trace reaches the client and no body over
    the route's limit is read."""

    server = ProblemWebServer()

    def __init__(self, method: str, url: str, *, body_limit: BodyLimit = "default", **kwargs: Any) -> None:
        self.body_limit = body_limit
        super().__init__(method, url, **kwargs)

    def handle_request(self, request: Request) -> Response:
        # Every log line of this request, and every event it causes, carries the caller's correlation id.
        correlation_id = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())
        request.environ["hocba.correlation_id"] = correlation_id
        with correlation(correlation_id=correlation_id):
            limit = body_limit_bytes(self.body_limit)
            try:
                refuse_before_reading(request, limit)
                read_body_within(request, limit)
            except Problem as problem:
                log.warning("http.body_too_large", url=self.url, limit=problem.extensions["max_bytes"])
                response = problem.response()
            except AuthError as refused:
                log.warning("http.body_refused_unauthenticated", url=self.url)
                response = problem_for(refused).response()
            else:
                response = super().handle_request(request)
        response.headers["X-Correlation-Id"] = correlation_id
        metrics.HTTP_REQUESTS.labels(self.container.service_name, self.url, str(response.status_code)).inc()
        return response

    def response_from_exception(self, exc: BaseException) -> Response:
        problem = problem_for(exc)
        if problem.status >= 500:
            log.error("http.unhandled", error=type(exc).__name__, detail=str(exc)[:500], url=self.url)
        return problem.response()


def api(
    method: str,
    url: str,
    *,
    expected_exceptions: tuple[type[BaseException], ...] = (),
    body_limit: BodyLimit = "default",
    **kwargs: Any,
) -> Any:
    """@api("GET", "/path"): refusals (4xx) are expected outcomes, logged as warnings rather than errors.
    ``body_limit="upload"`` (or a number of bytes) for routes that take files."""
    return ApiHandler.decorator(
        method,
        url,
        expected_exceptions=(Problem, AuthError, ValidationError, *expected_exceptions),
        body_limit=body_limit,
        **kwargs,
    )


# Heartbeat per service name: nameko builds a new service instance for every worker.
_heartbeats: dict[str, float] = {}


class HealthEndpoints:
    """Mixed into every service: liveness from a heartbeat timer, readiness from database + broker, metrics.

    Liveness never looks at the broker: a service that reconnects by itself must not be restarted during an
    outage; a stale heartbeat means the hub or worker pool is wedged (what a blocking driver causes).
    """

    name: str

    @timer(interval=2)
    def _heartbeat(self) -> None:
        _heartbeats[self.name] = time.monotonic()

    @timer(interval=15)
    def _observe_queues(self) -> None:
        """Queue depth as this service sees it (the autoscaler reads the broker; dashboards read this)."""
        from services.runtime.broker import subscriptions_of

        queues = [s.queue for s in subscriptions_of(type(self))]
        if not queues:
            return
        try:
            with Connection(get_settings().amqp_uri, connect_timeout=2) as conn:
                channel = conn.default_channel
                for queue in queues:
                    _, depth, _ = channel.queue_declare(queue=queue, passive=True)
                    metrics.QUEUE_DEPTH.labels(self.name, queue).set(depth)
        except Exception as error:  # noqa: BLE001 - a metric must never take a service down
            log.warning("metrics.queue_depth_unavailable", error=type(error).__name__)

    @api("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        settings = get_settings()
        beat = _heartbeats.get(self.name)
        age = None if beat is None else time.monotonic() - beat
        alive = age is not None and age < settings.heartbeat_stale_seconds
        # Consumers only: nameko reconnects by itself, so a short outage is tolerated; a link dead for longer
        # than the grace period means this pod consumes nothing, and a restart is the remedy.
        link = broker_links.get(self.name)
        broker_down_s = link.down_for() if link is not None else 0.0
        linked = broker_down_s < settings.broker_dead_seconds
        body = {
            "status": "ok" if alive and linked else "stale" if not alive else "broker link dead",
            "heartbeat_age_s": age,
            "broker_down_s": round(broker_down_s, 1),
        }
        return json_response(body, 200 if alive and linked else 503)

    @api("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        db = getattr(self, "db", None)
        if db is not None:
            try:
                with db() as session:
                    session.execute(text("select 1"))
                checks["database"] = "ok"
            except Exception as error:  # noqa: BLE001
                checks["database"] = type(error).__name__
        try:
            with Connection(get_settings().amqp_uri, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            checks["broker"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["broker"] = type(error).__name__
        link = broker_links.get(self.name)
        if link is not None:  # a consumer is ready only while it consumes
            checks["consuming"] = "ok" if link.connected else "reconnecting"
        ok = all(v == "ok" for v in checks.values())
        return json_response({"status": "ready" if ok else "not ready", "checks": checks}, 200 if ok else 503)

    @api("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
