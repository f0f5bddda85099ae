"""Long-running processes: one nameko service, or one service's outbox relay."""

from __future__ import annotations

from cli.registry import entry

# Services that check signatures or timestamps against trust anchors (and embed the seal's CA chain).
CHECKS_SIGNATURES = frozenset({"signing"})


def check_configuration(name: str) -> None:
    """Refuse to start, with the reason, a service that could not check tokens or signatures (no silent
    fallback to a test PKI or to accepting whatever arrives)."""
    from services.runtime.auth import AuthNotConfigured, require_auth_configured
    from services.runtime.settings import get_settings
    from services.runtime.trust import TrustAnchorsMissing, ca_chain, trust_roots

    settings = get_settings()
    try:
        require_auth_configured(settings)
        if name in CHECKS_SIGNATURES:
            trust_roots(settings)
            ca_chain(settings)
    except (AuthNotConfigured, TrustAnchorsMissing) as problem:
        raise SystemExit(f"hocba {name}: refusing to start: {problem}") from None


def run_service(name: str, port: int | None = None) -> None:
    """Run one service in the foreground until SIGTERM/SIGINT (nameko's own runner handles both)."""
    from services.runtime import green

    green.patch()
    from nameko.cli.run import run

    from services.runtime.logging import configure_logging
    from services.runtime.settings import get_settings

    service = entry(name)
    check_configuration(name)
    settings = get_settings()
    configure_logging(name, level=settings.log_level, json=settings.log_json)
    config = settings.nameko_config(name, WEB_SERVER_ADDRESS=f"0.0.0.0:{port or service.port}")
    run([service.load()], config)


def run_relay(name: str, metrics_port: int | None = None) -> None:
    """Run one service's outbox relay in the foreground; it is its own process so it scales and fails alone."""
    import threading  # here: a service patches threading green (run_service) before anything imports it

    from prometheus_client import start_http_server

    from services.runtime.db import make_engine, new_metadata
    from services.runtime.logging import configure_logging, get_logger
    from services.runtime.relay import ConfirmingPublisher, OutboxRelay, install_stop_signals
    from services.runtime.settings import get_settings
    from services.runtime.tables import outbox_table

    settings = get_settings()
    configure_logging(f"{name}-relay", level=settings.log_level, json=settings.log_json)
    if metrics_port:
        start_http_server(metrics_port)
    engine = make_engine(
        settings.login_url(name),
        pool_size=2,
        application_name=f"{name}-relay",
        transaction_pooling=settings.db_transaction_pooling,
    )
    if name == "audit":
        from services.audit.store.login import refuse_a_login_that_may_change_the_log

        refuse_a_login_that_may_change_the_log(engine)
    relay = OutboxRelay(
        name,
        engine,
        outbox_table(new_metadata()),
        ConfirmingPublisher(settings.amqp_uri, declare_exchanges=settings.declare_exchanges),
        public_exchange=settings.public_exchange,
        batch_size=settings.relay_batch_size,
        pause_after_publish=settings.relay_pause_after_publish,
    )
    stop = threading.Event()
    install_stop_signals(stop)
    get_logger(__name__).info("relay.started", service=name)
    relay.run(stop, poll_seconds=settings.relay_poll_seconds)


def main(argv: list[str] | None = None) -> None:
    """``python -m cli.processes run|relay NAME``: what a local stack starts (cli/stack.py), the same functions as
    `hocba run` / `hocba relay` without loading the whole command line (its command groups cost each process a third
    of a CPU-second at start-up, and a stack starts ten of them)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cli.processes")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one service in the foreground")
    run.add_argument("service")
    run.add_argument("--port", type=int)
    relay = commands.add_parser("relay", help="one service's outbox relay in the foreground")
    relay.add_argument("service")
    relay.add_argument("--metrics-port", type=int)
    args = parser.parse_args(argv)
    if args.command == "run":
        run_service(args.service, args.port)
    else:
        run_relay(args.service, args.metrics_port)


if __name__ == "__main__":
    main()
