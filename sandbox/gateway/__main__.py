"""``python -m sandbox.gateway serve|token|initdb``: run the simulated gateway, mint school tokens, create its DB."""

from __future__ import annotations

import argparse
import logging
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway and the lookup portal (plain threads)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700, help="the public API and the lookup portal")
    serve.add_argument("--admin-host", default="127.0.0.1", help="the admin API's address (keep it private)")
    serve.add_argument(
        "--admin-port", type=int, default=8701, help="the admin API (/_admin/: clock, faults, stats)"
    )
    serve.add_argument(
        "--verifier",
        default="sandbox.gateway.verifiers:embedded_xml_only",
        help="module:function verifying a PDF, (pdf, xml) -> (ok, reasons)",
    )
    token = commands.add_parser("token", help="print a bearer token for a school")
    token.add_argument("--school", required=True)
    commands.add_parser("initdb", help="create the gateway database and tables if missing")
    args = parser.parse_args(argv)

    from pydantic import ValidationError

    from sandbox.gateway.settings import get_gateway_settings

    try:
        settings = get_gateway_settings()
    except ValidationError as error:
        print(f"gateway: refusing to start: {error.errors()[0]['msg']}", file=sys.stderr)
        return 2
    if args.command == "token":
        from sandbox.gateway.auth import mint

        print(mint(settings.secret.get_secret_value().encode(), args.school))
        return 0
    if args.command == "initdb":
        from sandbox.gateway.store.tables import ensure_database

        ensure_database(settings.db_url).dispose()
        print("gateway database ready")
        return 0

    from werkzeug.serving import make_server

    from sandbox.gateway.access_log import ScrubbingRequestHandler
    from sandbox.gateway.app import AdminApp, create_app
    from sandbox.gateway.verifiers import load
    from services.runtime.logging import configure_logging, get_logger

    configure_logging("gateway", level=settings.log_level)
    # Werkzeug sets its access log to INFO unless told otherwise; follow the gateway's level.
    logging.getLogger("werkzeug").setLevel(settings.log_level.upper())
    app = create_app(load(args.verifier), settings)
    # Threaded, not eventlet: a hanging request (accept-then-timeout) must not stall the others.
    server = make_server(args.host, args.port, app, threaded=True, request_handler=ScrubbingRequestHandler)
    admin = make_server(args.admin_host, args.admin_port, AdminApp(app.ctx), threaded=True)
    threading.Thread(target=admin.serve_forever, name="gateway-admin", daemon=True).start()
    get_logger(__name__).info(
        "gateway.listening", host=args.host, port=server.port, admin_port=admin.port, verifier=args.verifier
    )
    print(
        f"gateway listening on http://{args.host}:{server.port} (admin on http://{args.admin_host}:{admin.port})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        admin.shutdown()
        admin.server_close()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
