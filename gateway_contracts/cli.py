"""The ``gateway-contracts`` command line.

Every failure a user can cause (a bad URL, an unreachable database, a port in use) ends in one line on stderr
naming what went wrong and what to do, and a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway_contracts import __version__

EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_DATABASE = 4
EXIT_CHECK_FAILED = 1


class CliError(Exception):
    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gateway-contracts", description=__doc__.splitlines()[0] if __doc__ else "")
    p.add_argument("--version", action="version", version=f"gateway-contracts {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the reference gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed on start)")
    serve.add_argument("--db-url", help="sqlite:///path or postgresql://user@host:port/db (default: data/gateway.sqlite3)")
    serve.add_argument(
        "--upstream",
        action="append",
        metavar="SPEC",
        help="'scripted' (default, in-process), a base URL for every backend, or SLUG=URL; repeatable",
    )
    serve.add_argument("--default-backend", default="anthropic")
    serve.add_argument("--internal-key", help="key required on X-Ainfera-Internal-Key for /metrics")
    serve.add_argument("--client-key", action="append", default=[], help="accepted client API key; repeatable")
    serve.add_argument("--log-file", type=Path, help="also write the JSON log lines to this file")
    serve.add_argument("--max-body-bytes", type=int, default=1024 * 1024)
    serve.add_argument("--kill-switch-usd", type=float, help="refuse calls once spending reaches this many USD")

    up = sub.add_parser("upstream", help="run the scripted upstream as its own HTTP server")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8090)

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "seed"])
    db.add_argument("--db-url", required=True)

    verify = sub.add_parser("audit-verify", help="verify the audit hash chain")
    verify.add_argument("--db-url", required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "upstream":
            return _upstream(args)
        if args.command == "db":
            return _db(args)
        if args.command == "audit-verify":
            return _audit_verify(args)
    except CliError as exc:
        print(f"gateway-contracts: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")


def _check_db_url(url: str) -> str:
    from reference_server.db.urls import DatabaseURLError, to_async_url

    try:
        to_async_url(url)
    except DatabaseURLError as exc:
        raise CliError(f"{exc}", EXIT_USAGE) from None
    return url


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from reference_server.app import build_app
    from reference_server.config import GatewayConfig, default_db_url

    db_url = _check_db_url(args.db_url or default_db_url())
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:///:memory:"):
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

    async def run() -> None:
        app = build_app(config)
        runner = web.AppRunner(app, access_log=None)
        try:
            await runner.setup()
        except OSError as exc:
            raise CliError(f"cannot open the database at {_redact(db_url)}: {exc}", EXIT_DATABASE) from None
        except Exception as exc:  # migrations failing on an unreachable server surface here
            raise CliError(
                f"cannot start: database {_redact(db_url)} failed: {type(exc).__name__}: {_first_line(exc)}",
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
            f"(db {_redact(db_url)}, upstream {', '.join(config.upstreams)}); Ctrl-C stops it",
            flush=True,
        )
        try:
            await _wait_for_signal()
        finally:
            print("gateway-contracts: stopping", flush=True)
            await runner.cleanup()

    asyncio.run(run())
    return 0


def _upstream(args: argparse.Namespace) -> int:
    from reference_server.upstream.scripted.server import start_server

    async def run() -> None:
        try:
            runner, port = await start_server(args.host, args.port)
        except OSError as exc:
            raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_USAGE) from None
        print(f"gateway-contracts: scripted upstream listening on http://{args.host}:{port}", flush=True)
        try:
            await _wait_for_signal()
        finally:
            await runner.cleanup()

    asyncio.run(run())
    return 0


def _db(args: argparse.Namespace) -> int:
    from reference_server.db import ops

    url = _check_db_url(args.db_url)
    try:
        if args.action == "upgrade":
            asyncio.run(ops.upgrade(url))
        else:
            asyncio.run(ops.seed(url))
    except Exception as exc:
        raise CliError(f"{args.action} failed on {_redact(url)}: {_first_line(exc)}", EXIT_DATABASE) from None
    print(f"gateway-contracts: db {args.action} done on {_redact(url)}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from reference_server.db import ops

    url = _check_db_url(args.db_url)
    try:
        result = asyncio.run(ops.verify_audit_chain(url))
    except Exception as exc:
        raise CliError(f"cannot read the audit chain on {_redact(url)}: {_first_line(exc)}", EXIT_DATABASE) from None
    print(result.message)
    return 0 if result.ok else 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _redact(url: str) -> str:
    """Drop a password from a database URL before printing it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


if __name__ == "__main__":
    sys.exit(main())
