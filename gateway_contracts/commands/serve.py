"""``gateway-contracts serve``: run the reference gateway."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from gateway_contracts.commands._signals import wait_for_stop_signal
from gateway_contracts.commands.dburl import checked_db_url
from gateway_contracts.errors import EXIT_DATABASE, EXIT_USAGE, CliError, first_line, redact_url


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("serve", help="run the reference gateway")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed on start)")
    p.add_argument("--db-url", help="sqlite:///path or postgresql://user@host:port/db (default: data/gateway.sqlite3)")
    p.add_argument(
        "--upstream",
        action="append",
        metavar="SPEC",
        help="'scripted' (default, in-process), a base URL for every backend, or SLUG=URL; repeatable",
    )
    p.add_argument("--default-backend", default="anthropic")
    p.add_argument("--internal-key", help="key required on X-Ainfera-Internal-Key for /metrics")
    p.add_argument("--client-key", action="append", default=[], help="accepted client API key; repeatable")
    p.add_argument("--log-file", type=Path, help="also write the JSON log lines to this file")
    p.add_argument("--max-body-bytes", type=int, default=1024 * 1024)
    p.add_argument("--kill-switch-usd", type=float, help="refuse calls once spending reaches this many USD")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from aiohttp import web

    from reference_server.app import build_app
    from reference_server.config import GatewayConfig, default_db_url

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
    )

    async def serve() -> None:
        runner = web.AppRunner(build_app(config), access_log=None)
        try:
            await runner.setup()
        except Exception as exc:  # migrations on an unreachable or broken database surface here
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
            raise CliError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}", EXIT_USAGE) from None
        port = runner.addresses[0][1] if runner.addresses else config.port
        print(
            f"gateway-contracts: reference gateway listening on http://{config.host}:{port} "
            f"(db {redact_url(db_url)}, upstream {', '.join(config.upstreams)}); Ctrl-C stops it",
            flush=True,
        )
        try:
            await wait_for_stop_signal()
        finally:
            print("gateway-contracts: stopping", flush=True)
            await runner.cleanup()

    asyncio.run(serve())
    return 0
