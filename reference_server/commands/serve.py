"""``reference-gateway serve``: run the reference gateway."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from contracts.exits import EXIT_DATABASE, EXIT_USAGE, CliError, first_line, redact_url
from reference_server.commands import _loop
from reference_server.commands._loop import LOOP_HELP, LOOPS
from reference_server.commands._signals import wait_for_stop_signal


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the reference gateway")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed on start)")
    p.add_argument(
        "--db-url", help="sqlite:///path or postgresql://user@host:port/db (default: data/gateway.sqlite3)"
    )
    p.add_argument(
        "--upstream",
        action="append",
        metavar="SPEC",
        help="'scripted' (default, in-process), a base URL for every backend, or SLUG=URL; repeatable",
    )
    p.add_argument("--default-backend", default="anthropic")
    p.add_argument(
        "--internal-key",
        help="the internal key /metrics requires (sent in the gateway's internal-key header)",
    )
    p.add_argument("--client-key", action="append", default=[], help="accepted client API key; repeatable")
    p.add_argument("--log-file", type=Path, help="also write the JSON log lines to this file (appended)")
    p.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default: INFO"
    )
    p.add_argument("--max-body-bytes", type=int, default=1024 * 1024)
    p.add_argument("--kill-switch-usd", type=float, help="refuse calls once spending reaches this many USD")
    p.add_argument("--loop", choices=LOOPS, default="auto", help=LOOP_HELP)
    p.add_argument(
        "--header-timeout",
        type=float,
        default=20.0,
        help="seconds a client has to send a whole request head; then the connection closes (default 20)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        help="seconds a client has to send a whole request body; then 408 and the connection closes (default 30)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.header_timeout <= 0 or args.body_timeout <= 0:
        raise CliError("--header-timeout and --body-timeout must be positive", EXIT_USAGE)
    _loop.loop_factory(args.loop)  # uvloop asked for but not installed: a usage error before anything starts
    # JSON logging first: every line from the first startup line on is one scrubbed JSON object (BRIEF §5),
    # so nothing below (imports included) may log before it is in place.
    from reference_server.observability.logging_setup import install_json_logging

    try:
        install_json_logging(level=args.log_level, log_file=args.log_file)
    except OSError as exc:
        raise CliError(f"cannot open the log file {args.log_file}: {exc.strerror}", EXIT_USAGE) from None

    from aiohttp import web

    from contracts.db_urls import checked_db_url
    from reference_server.app import build_app
    from reference_server.config import GatewayConfig, default_db_url
    from reference_server.observability.access_log import ScrubbingAccessLogger

    log = logging.getLogger("reference_server.serve")

    db_url = checked_db_url(args.db_url or default_db_url())
    if db_url.startswith("sqlite:///") and ":memory:" not in db_url:
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    config = GatewayConfig(
        host=args.host,
        port=args.port,
        db_url=db_url,
        upstreams=args.upstream or ["scripted"],
        default_backend=args.default_backend,
        internal_key=args.internal_key,
        client_keys=tuple(args.client_key),
        log_file=args.log_file,
        max_body_bytes=args.max_body_bytes,
        kill_switch_usd=args.kill_switch_usd,
        header_timeout_s=args.header_timeout,
        body_timeout_s=args.body_timeout,
    )

    log.info(
        "gateway starting",
        extra={
            "event": "gateway.starting",
            "db": redact_url(db_url),
            "upstreams": config.upstreams,
            "internal_key_set": bool(config.internal_key),
            "kill_switch_usd": config.kill_switch_usd,
        },
    )

    async def serve() -> None:
        runner = web.AppRunner(
            build_app(config),
            access_log=logging.getLogger("aiohttp.access"),
            access_log_class=ScrubbingAccessLogger,
        )
        try:
            await runner.setup()
        except Exception as exc:  # migrations on an unreachable or broken database surface here
            log.error(
                "gateway cannot start: database unavailable", exc_info=True, extra={"event": "gateway.failed"}
            )
            raise CliError(
                f"cannot start: database {redact_url(db_url)}: {type(exc).__name__}: {first_line(exc)}; "
                "check that the server is up and the URL is right",
                EXIT_DATABASE,
            ) from None
        site = web.TCPSite(runner, config.host, config.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            log.error("gateway cannot listen: %s", exc.strerror, extra={"event": "gateway.failed"})
            raise CliError(
                f"cannot listen on {config.host}:{config.port}: {exc.strerror}", EXIT_USAGE
            ) from None
        port = runner.addresses[0][1] if runner.addresses else config.port
        log.info(
            "gateway listening",
            extra={
                "event": "gateway.listening",
                "url": f"http://{config.host}:{port}",
                "loop": _loop.running_loop_name(),
            },
        )
        print(
            f"reference-gateway: listening on http://{config.host}:{port} "
            f"(db {redact_url(db_url)}, upstream {', '.join(config.upstreams)}); Ctrl-C stops it",
            flush=True,
        )
        try:
            await wait_for_stop_signal()
        finally:
            print("reference-gateway: stopping", flush=True)
            log.info("gateway stopping", extra={"event": "gateway.stopping"})
            await runner.cleanup()

    _loop.run(serve, args.loop)
    return 0
