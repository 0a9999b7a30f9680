"""Running ``gateway-contracts fuzz`` in-process, as the command line does (one-line errors, exit statuses)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from gateway_contracts.commands import fuzz
from gateway_contracts.errors import CliError
from gateway_contracts.fuzz.events import read_events
from gateway_contracts.target import Target

SMALL = "10"
"""--max-examples for the tests: enough for every check to fire on its mutant, small enough to stay quick."""
_REQUEST_ID = re.compile(rb"req_[0-9a-f]{24}")


def run_fuzz(*argv: str) -> int:
    # The same wiring as gateway_contracts.cli.main, for the fuzz command alone.
    parser = argparse.ArgumentParser(prog="gateway-contracts")
    fuzz.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fuzz", *argv])
    try:
        return int(args.run(args))
    except CliError as exc:
        print(f"gateway-contracts: {exc}")
        return exc.status


def target_args(target: Target) -> list[str]:
    """The flags that describe a running target (its URL, key, model, database, internal key, features)."""
    from gateway_contracts.target.flags import to_flags

    assert target.db_url and target.internal_key
    return to_flags(target)


def findings(report_dir: Path) -> list[dict[str, Any]]:
    document = json.loads((report_dir / "fuzz" / "findings.json").read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = document["findings"]
    return found


def findings_document(report_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((report_dir / "fuzz" / "findings.json").read_text(encoding="utf-8"))
    return document


def request_sequence(report_dir: Path) -> list[tuple[str, str, str, str, bytes]]:
    """Every request the run sent, in order. Request ids come from the gateway's responses (the stateful
    phase follows the audit link), so they are the one part that may differ between two runs of one seed."""
    events = read_events(report_dir / "fuzz" / "events.ndjson")
    return [
        (
            item.phase,
            item.request.method,
            _REQUEST_ID.sub(b"req_ID", item.request.uri.encode()).decode(),
            json.dumps(sorted(item.request.headers.items())),
            _REQUEST_ID.sub(b"req_ID", item.request.body or b""),
        )
        for item in events.interactions
    ]
