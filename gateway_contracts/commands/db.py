"""``gateway-contracts db upgrade|seed`` and ``gateway-contracts audit-verify``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from gateway_contracts.commands.dburl import checked_db_url
from gateway_contracts.errors import EXIT_DATABASE, EXIT_FAILED, CliError, first_line, redact_url


def register(sub: Any) -> None:
    db: argparse.ArgumentParser = sub.add_parser("db", help="migrate or seed a gateway database")
    db.add_argument("action", choices=["upgrade", "seed"])
    db.add_argument("--db-url", required=True)
    db.set_defaults(run=run_db)

    verify: argparse.ArgumentParser = sub.add_parser("audit-verify", help="verify the audit hash chain")
    verify.add_argument("--db-url", required=True)
    verify.set_defaults(run=run_verify)


def run_db(args: argparse.Namespace) -> int:
    from reference_server.db import ops

    url = checked_db_url(args.db_url)
    try:
        asyncio.run(ops.upgrade(url) if args.action == "upgrade" else ops.seed(url))
    except Exception as exc:
        raise CliError(
            f"{args.action} failed on {redact_url(url)}: {first_line(exc)}", EXIT_DATABASE
        ) from None
    print(f"gateway-contracts: db {args.action} done on {redact_url(url)}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from reference_server.db import ops

    url = checked_db_url(args.db_url)
    try:
        result = asyncio.run(ops.verify_audit_chain(url))
    except Exception as exc:
        raise CliError(
            f"cannot read the audit chain on {redact_url(url)}: {first_line(exc)}", EXIT_DATABASE
        ) from None
    print(result.message)
    return 0 if result.ok else EXIT_FAILED
