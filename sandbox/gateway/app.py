"""The WSGI application: routing, faults around every request, refusals as RFC 9457 problem+json."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.gateway import admin, api, queries, trust_list
from sandbox.gateway.access_log import scrub_codes
from sandbox.gateway.clock import Clock
from sandbox.gateway.context import Context
from sandbox.gateway.domain import errors
from sandbox.gateway.domain.rules import Cutoffs
from sandbox.gateway.faults import Faults, drop_connection
from sandbox.gateway.portal import views as portal
from sandbox.gateway.portal.limits import AttemptLimits, parse_networks
from sandbox.gateway.settings import GatewaySettings, get_gateway_settings
from sandbox.gateway.store.tables import ensure_database
from sandbox.gateway.verifiers import Verifier, embedded_xml_only
from services.runtime.logging import get_logger

log = get_logger(__name__)
MAX_BODY = 50 * 1024 * 1024
PROBLEM_BASE = "https://congtiepnhan.hocba.example.vn/problems/"
# On every answer: the portal's pages are server-rendered with one same-origin stylesheet and no script, so the
# policy can forbid everything else; no site may frame them (clickjacking the birth-date form); a page's address
# carries the lookup code, which must not leave in a Referer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

ROUTES = Map(
    [
        Rule("/healthz", endpoint="health", methods=["GET"]),
        Rule("/api/v1/records", endpoint="submit", methods=["POST"]),
        Rule("/api/v1/records", endpoint="list", methods=["GET"]),
        Rule("/api/v1/records/<record_id>/withdraw", endpoint="withdraw", methods=["POST"]),
        Rule("/api/v1/records/<record_id>/replace", endpoint="replace", methods=["POST"]),
        Rule("/api/v1/records/<record_id>/<any(pdf, xml):kind>", endpoint="download", methods=["GET"]),
        Rule("/api/v1/transfers", endpoint="transfer", methods=["POST"]),
        Rule("/api/v1/qr/trust-list", endpoint="qr_trust_list", methods=["GET"]),
        Rule("/", endpoint="portal_home", methods=["GET"]),
        Rule("/tra-cuu", endpoint="portal_lookup", methods=["GET"]),
        Rule("/hocba/<code>", endpoint="portal_record", methods=["GET"]),
        Rule("/hocba/<code>/<record_id>.pdf", endpoint="portal_pdf", methods=["GET", "POST"]),
        Rule("/hocba/<code>/truy-cap", endpoint="portal_accesses", methods=["GET", "POST"]),
        Rule("/hocba/<code>/trich-luc", endpoint="portal_extract", methods=["GET", "POST"]),
        Rule("/kiem-tra", endpoint="portal_check", methods=["POST"]),
        Rule("/static/portal.css", endpoint="portal_css", methods=["GET"]),
    ]
)

HANDLERS: dict[str, Callable[..., Response]] = {
    "health": lambda ctx, request: api.json_response(
        {"status": "ok", "today": ctx.clock.today().isoformat()}
    ),
    "submit": api.submit,
    "list": queries.list_records,
    "withdraw": api.withdraw,
    "replace": api.replace,
    "download": queries.download,
    "transfer": api.transfer,
    "qr_trust_list": trust_list.trust_list,
    "portal_home": portal.home,
    "portal_lookup": portal.lookup,
    "portal_record": portal.record,
    "portal_pdf": portal.pdf,
    "portal_accesses": portal.accesses,
    "portal_extract": portal.extract,
    "portal_check": portal.check,
    "portal_css": portal.css,
}


# The admin API moves the clock and injects faults: it listens on a port of its own (loopback by default), never
# beside the public API and portal, and is never faulted.
ADMIN_ROUTES = Map(
    [
        Rule("/healthz", endpoint="health", methods=["GET"]),
        Rule("/_admin/clock", endpoint="admin_clock", methods=["GET", "POST"]),
        Rule("/_admin/faults", endpoint="admin_faults", methods=["GET", "POST"]),
        Rule("/_admin/stats", endpoint="admin_stats", methods=["GET"]),
    ]
)

ADMIN_HANDLERS: dict[str, Callable[..., Response]] = {
    "health": HANDLERS["health"],
    "admin_clock": admin.clock,
    "admin_faults": admin.faults,
    "admin_stats": admin.stats,
}


def problem(status: int, reason: str, title: str, detail_vi: str, **extensions: Any) -> Response:
    body = {
        "type": PROBLEM_BASE + reason,
        "title": title,
        "status": status,
        "detail": detail_vi,
        "reason": reason,
        **extensions,
    }
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")


class GatewayApp:
    """One instance per process; threads share it (the context's parts are thread-safe)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        # Reading the body enforces this (413): a year record's PDF is well under it, a runaway upload is not.
        request.max_content_length = MAX_BODY
        decision = self.ctx.faults.decide(request.path, request.method)
        if decision.latency_s:
            time.sleep(decision.latency_s)
        if decision.drop or (decision.outage and self.ctx.faults.config.outage_mode == "drop"):
            return drop_connection(environ, start_response)
        if decision.outage:
            response = problem(
                503, "gateway_unavailable", "Gateway outage", "Cổng tiếp nhận đang tạm ngừng hoạt động."
            )
            response.headers["Retry-After"] = "1"
        elif decision.error_status is not None:
            response = problem(
                decision.error_status, "injected_error", "Injected fault", "Lỗi hệ thống của cổng (mô phỏng)."
            )
        else:
            response = self.dispatch(request)
            if decision.accept_timeout and 200 <= response.status_code < 300:
                # The record is committed; the caller must not learn it (the case idempotency keys exist for).
                self.ctx.faults.count("accept_timeout")
                if self.ctx.faults.config.accept_timeout_mode == "hang":
                    time.sleep(self.ctx.faults.config.hang_seconds)
                return drop_connection(environ, start_response)
        response.headers.update(SECURITY_HEADERS)
        return response(environ, start_response)

    routes = ROUTES
    handlers = HANDLERS

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, values = self.routes.bind_to_environ(request.environ).match()
            return self.handlers[endpoint](self.ctx, request, **values)
        except errors.GatewayError as error:
            log.warning("gateway.refused", reason=error.reason, path=scrub_codes(request.path))
            return problem(error.status, error.reason, error.title, error.detail_vi, **error.extensions)
        except NotFound:
            return problem(404, "not_found", "Not Found", "Không tìm thấy địa chỉ này.")
        except MethodNotAllowed:
            return problem(405, "method_not_allowed", "Method Not Allowed", "Phương thức không được hỗ trợ.")
        except HTTPException as error:
            return problem(error.code or 500, "http_error", error.name, "Yêu cầu không hợp lệ.")
        except Exception as error:  # noqa: BLE001 - no stack trace reaches a client
            log.error(
                "gateway.unhandled", error=type(error).__name__, path=scrub_codes(request.path), exc_info=True
            )
            return problem(500, "internal", "Internal Server Error", "Lỗi hệ thống, vui lòng thử lại sau.")


class AdminApp(GatewayApp):
    """The admin API on its own port, sharing the public app's context (clock, faults, database); no faults."""

    routes = ADMIN_ROUTES
    handlers = ADMIN_HANDLERS

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = 1 << 20
        response = self.dispatch(request)
        response.headers.update(SECURITY_HEADERS)
        return response(environ, start_response)


def create_app(
    verify_pdf: Verifier = embedded_xml_only, settings: GatewaySettings | None = None
) -> GatewayApp:
    """The gateway, given the PDF verifier to use (the project's real one is wired by whoever starts it)."""
    settings = settings or get_gateway_settings()
    engine = ensure_database(settings.db_url)
    ctx = Context(
        settings=settings,
        engine=engine,
        clock=Clock(date.fromisoformat(settings.today) if settings.today else None),
        faults=Faults(settings.fault_seed),
        verify_pdf=verify_pdf,
        cutoffs=Cutoffs.parse(settings.cutoff_regular, settings.cutoff_supplementary),
        attempts=AttemptLimits(
            engine,
            per_address=settings.portal_birth_date_failures,
            address_window_s=settings.portal_birth_date_window_s,
            per_code=settings.portal_code_failures,
            code_window_s=settings.portal_code_window_s,
        ),
        trusted_proxies=parse_networks(settings.trusted_proxies),
    )
    return GatewayApp(ctx)
