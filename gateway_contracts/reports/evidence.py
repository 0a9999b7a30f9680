"""The evidence of a failed test, as a report's failure: exchanges, rows, log lines, reproduce commands — scrubbed.

Tests record what they sent and got (``gateway_contracts.conformance.client.Exchanges``); here the harness adds
what the gateway kept of those calls (its captured rows and its log lines, found by the response's
``request-id``), and passes all of it through the project's scrubber before it can reach a file.

One deliberate difference: a request body the harness wrote itself is scrubbed for secrets but not for prompt
content. Those prompts are the harness's own synthetic text, not anyone's data, and without them the curl
command would not reproduce the request. Everything the *gateway* produced (responses, streams, rows, log lines)
gets the full rule set, prompt content included.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

from contracts.scrub import Scrubber, default_scrubber
from gateway_contracts.reports import reproduce
from gateway_contracts.reports.model import Command, Evidence, Exchange, Failure, LogLine, RowSet, When
from gateway_contracts.target import Target

if TYPE_CHECKING:
    from gateway_contracts.capture.db import CaptureDB

PROMPT_FAMILY = "prompt-content"
MAX_REQUEST_IDS = 3
"""Rows and log lines are looked up for the last few calls of a test: those are what explain its failure."""
MAX_LOG_LINES = 20
MAX_LOG_LINE = 4000
MAX_ROWS_PER_TABLE = 20


@functools.cache
def authored_scrubber() -> Scrubber:
    """The project's scrubber without its prompt-content rule, for request bodies the harness wrote."""
    rules = default_scrubber().rules
    kept = tuple(r for r in rules.key_rules if r.family != PROMPT_FAMILY)
    return Scrubber(dataclasses.replace(rules, key_rules=kept))


def scrub_text(text: str) -> str:
    return default_scrubber().scrub_text(text)


class EvidenceSources:
    """The target's database and log file, opened on first use and read once, for the calls of failed tests.

    Looking evidence up must never turn a report into a crash: a database or log that cannot be read leaves a
    note in the finding instead.
    """

    def __init__(self, target: Target | None) -> None:
        self.target = target
        self._db: CaptureDB | None = None
        self._log_index: dict[str, list[dict[str, Any]]] | None = None
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def rows(self, request_id: str) -> list[dict[str, Any]]:
        if request_id not in self._rows:
            self._rows[request_id] = self._read_rows(request_id)
        return self._rows[request_id]

    def _read_rows(self, request_id: str) -> list[dict[str, Any]]:
        if self.target is None or not self.target.db_url:
            return []
        from gateway_contracts.capture.db import CaptureDB
        from gateway_contracts.capture.invariants import call_rows

        if self._db is None:
            self._db = CaptureDB(self.target.db_url)
        found = call_rows(self._db, request_id)
        tables = {
            "routing_outcomes": found.outcomes,
            "audit_events": found.audit,
            "ledger_entries": found.ledger,
        }
        return [
            {"table": table, "request_id": request_id, "rows": rows[:MAX_ROWS_PER_TABLE]}
            for table, rows in tables.items()
        ]

    def log_lines(self, request_id: str) -> list[dict[str, Any]]:
        if self.target is None or not self.target.log_file:
            return []
        if self._log_index is None:
            from gateway_contracts.logs import read_lines

            index: dict[str, list[dict[str, Any]]] = {}
            for line in read_lines(self.target.log_file):
                rid = line.record.get("request_id") if line.record else None
                if isinstance(rid, str):
                    index.setdefault(rid, []).append({"number": line.number, "line": line.raw[:MAX_LOG_LINE]})
            self._log_index = index
        return self._log_index.get(request_id, [])[:MAX_LOG_LINES]


def _is_exchange(raw: Any) -> bool:
    if not isinstance(raw, dict):
        return False
    req, resp = raw.get("request"), raw.get("response")
    return (
        isinstance(req, dict)
        and isinstance(resp, dict)
        and isinstance(req.get("method"), str)
        and isinstance(resp.get("status"), int)
    )


def _headers(raw: Any) -> dict[str, str]:
    scrubbed = default_scrubber().scrub_value(raw if isinstance(raw, dict) else {})
    return {str(k): str(v) for k, v in scrubbed.items()}


def exchange(raw: dict[str, Any]) -> Exchange:
    """A recorded exchange, scrubbed."""
    req, resp = raw["request"], raw["response"]
    response_headers = _headers(resp.get("headers"))
    content_type = next((v for k, v in response_headers.items() if k.lower() == "content-type"), "")
    body = str(req.get("body") or "")
    return Exchange(
        method=str(req["method"]),
        path=scrub_text(str(req.get("path", ""))),
        request_headers=_headers(req.get("headers")),
        request_body=authored_scrubber().scrub_value(body),
        status=int(resp["status"]),
        response_headers=response_headers,
        response_body=default_scrubber().scrub_value(str(resp.get("body") or "")),
        stream=content_type.startswith("text/event-stream"),
    )


def _request_ids(exchanges: list[Exchange]) -> list[str]:
    ids: list[str] = []
    for x in exchanges:
        rid = next((v for k, v in x.response_headers.items() if k.lower() == "request-id"), None)
        if rid and rid not in ids:
            ids.append(rid)
    return ids[-MAX_REQUEST_IDS:]


def _stored(
    exchanges: list[Exchange], sources: EvidenceSources, notes: list[str]
) -> tuple[list[Any], list[Any]]:
    """What the gateway kept of the calls: their captured rows and log lines (a note where it cannot be read)."""
    rows: list[dict[str, Any]] = []
    log_lines: list[dict[str, Any]] = []
    for rid in _request_ids(exchanges):
        try:
            found = sources.rows(rid)
        except Exception as exc:  # evidence is best effort; the failure itself is already recorded
            notes.append(f"rows of {rid} unavailable: {type(exc).__name__}: {str(exc)[:200]}")
            found = []
        if any(t["rows"] for t in found):
            rows += found
        elif found:  # said once, not as three empty tables: for a capture failure this *is* the evidence
            notes.append(f"the database has no captured rows for {rid}")
        try:
            log_lines += sources.log_lines(rid)
        except Exception as exc:
            notes.append(f"log lines of {rid} unavailable: {type(exc).__name__}: {str(exc)[:200]}")
    return rows, log_lines


def failure(
    clause: str,
    nodeid: str,
    when: When,
    message: str,
    evidence: dict[str, Any],
    target: Target | None,
    sources: EvidenceSources,
) -> Failure:
    """One failed test of ``clause``. ``evidence`` is what the test recorded, unscrubbed; the result is scrubbed."""
    raw_exchanges = evidence.get("exchanges")
    exchanges = (
        [exchange(x) for x in raw_exchanges if _is_exchange(x)] if isinstance(raw_exchanges, list) else []
    )
    other_raw = {k: v for k, v in evidence.items() if k != "exchanges"}
    if isinstance(raw_exchanges, list) and len(exchanges) != len(raw_exchanges):
        other_raw["unrecognised_exchanges"] = [x for x in raw_exchanges if not _is_exchange(x)]
    notes: list[str] = []
    rows, log_lines = _stored(exchanges, sources, notes)
    if notes:
        other_raw["evidence_notes"] = notes
    commands = []
    base_url = target.base_url if target is not None else ""
    if exchanges:
        commands.append(Command("curl", reproduce.curl(base_url, exchanges[-1])))
    commands.append(Command("check", reproduce.rerun(target, nodeid)))
    scrubbed_rows = default_scrubber().scrub_value(rows)
    return Failure(
        clause=clause,
        test=nodeid,
        when=when,
        message=scrub_text(message),
        evidence=Evidence(
            exchanges=tuple(exchanges),
            rows=tuple(RowSet(r["table"], r["request_id"], tuple(r["rows"])) for r in scrubbed_rows),
            log_lines=tuple(
                LogLine(ln["number"], scrub_text(ln["line"])) for ln in log_lines[:MAX_LOG_LINES]
            ),
            other=default_scrubber().scrub_value(other_raw),
        ),
        reproduce=tuple(commands),
    )
