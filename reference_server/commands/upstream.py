"""``reference-gateway upstream``: the scripted upstream as its own HTTP server."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from contracts.exits import EXIT_USAGE, CliError
from reference_server.commands._signals import wait_for_stop_signal


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "upstream", help="run the scripted upstream as an HTTP server"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="also serve this model (repeatable); served by default: every registered backend's upstream "
        "model and scripted-model. Any other model gets the provider's 404",
    )
    p.add_argument(
        "--any-model",
        action="store_true",
        help="answer for any model name (the old, lenient behaviour; a real provider never does this)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reference_server.upstream.scripted.server import served_models, start_server

    served = served_models(args.model, any_model=args.any_model)

    async def serve() -> None:
        try:
            runner, port = await start_server(args.host, args.port, served)
        except OSError as exc:
            raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", EXIT_USAGE) from None
        print(f"reference-gateway: scripted upstream listening on http://{args.host}:{port}", flush=True)
        try:
            await wait_for_stop_signal()
        finally:
            await runner.cleanup()

    asyncio.run(serve())
    return 0
