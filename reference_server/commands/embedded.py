"""``reference-gateway embedded``: the embedded reference gateway for the harness's ``start`` option.

It starts the scripted upstream, the gateway and the kill-switch gateway on a fresh SQLite database and log (in
``$GATEWAY_CONTRACTS_WORKDIR`` when the harness gives one, else a temporary directory), prints the ready line of
``contracts/start.py`` on stdout, and runs until SIGTERM or SIGINT, or until its stdin, when it is a pipe,
reaches its end (the harness that started it is gone). Then it stops what it started.

The harness passes the options its file and flags set in ``$GATEWAY_CONTRACTS_TARGET``: the database
(``capture.db_url``) and the body limit (``target.body_limit``) are honoured, so that ``gateway-contracts check
--db-url postgresql://...`` checks the embedded gateway on that database.
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from contracts.exits import EXIT_USAGE, CliError
from contracts.start import WORKDIR_ENV, given_options, ready_line


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "embedded",
        help="start the embedded gateway (upstream, gateway, kill-switch gateway) and print its ready line",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--mutant", metavar="NAME", help="a deliberately broken variant (see selftest --list)")
    p.add_argument(
        "--db-url", help="the gateway's database (default: capture.db_url given, else fresh SQLite)"
    )
    p.add_argument(
        "--upstream", metavar="URL", help="a running scripted upstream to use instead of a new one"
    )
    p.add_argument(
        "--kill-switch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also start the gateway whose kill-switch is engaged (default: yes)",
    )
    p.add_argument(
        "--body-limit", type=int, help="request size limit in bytes (default: target.body_limit given)"
    )
    p.add_argument("--workdir", type=Path, help=f"where the databases and logs go (default: ${WORKDIR_ENV})")
    p.set_defaults(run=run)


class _Stop(Exception):
    """SIGTERM, or the end of stdin: unwind, stopping what was started."""


def _stop(signum: int, frame: FrameType | None) -> None:
    # Once: the harness signals the whole process group after closing stdin, and a second _Stop must not cut
    # short the clean-up the first one started.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Stop


def _watch_stdin() -> None:
    """When stdin is a pipe, its end means the harness that holds it is gone: stop as on SIGTERM."""
    try:
        if not stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
            return
    except (OSError, ValueError):
        return

    def watch() -> None:
        try:
            while os.read(sys.stdin.fileno(), 4096):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-eof", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    from reference_server.embedded import DEFAULT_BODY_LIMIT, embedded
    from reference_server.gateway_forks import UPSTREAM_PRELOAD, fork_here, preload
    from reference_server.mutants import MUTANTS

    if args.mutant is not None and args.mutant not in MUTANTS:
        raise CliError(f"unknown mutant {args.mutant!r}; see reference-gateway selftest --list", EXIT_USAGE)
    given = given_options()
    db_url = args.db_url or given.get("capture.db_url") or None
    if db_url:
        from contracts.db_urls import checked_db_url

        checked_db_url(db_url)
    body_limit = args.body_limit or given.get("target.body_limit") or DEFAULT_BODY_LIMIT
    workdir = args.workdir or (Path(os.environ[WORKDIR_ENV]) if os.environ.get(WORKDIR_ENV) else None)
    # The upstream and both gateways are forks of this process, which imports their modules once: three
    # interpreters importing aiohttp, SQLAlchemy and Alembic were most of the start's CPU.
    preload(UPSTREAM_PRELOAD)
    signal.signal(signal.SIGTERM, _stop)
    try:
        with embedded(
            workdir,
            mutant=args.mutant,
            db_url=db_url,
            upstream_url=args.upstream,
            kill_switch=args.kill_switch,
            body_limit=int(body_limit),
            start=fork_here,
        ) as ready:
            _watch_stdin()  # before the ready line: a stop that follows it at once must find the thread started
            print(ready_line(ready), flush=True)
            while True:
                signal.pause()
    except (_Stop, KeyboardInterrupt):
        return 0
