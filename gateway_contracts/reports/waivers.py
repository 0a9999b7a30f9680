"""``waivers.yaml``: clauses a team has decided to live with failing, for a stated reason, until a date.

    version: 1
    waivers:
      - clause: SSE-019
        reason: "upstream X drops message_stop; tracked in #123"
        expires: 2026-09-30

A waived clause that fails shows as *waived* and does not fail the run. A waiver is valid through its expiry
date; from the day after, it no longer applies and it fails the run by itself, whatever the clause does, so
that a waiver is a dated decision and never a permanent mute. A waiver for a clause the contract does not
have is an error: it would silently waive nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from gateway_contracts.reports.model import FAILING, Report, WaiverRecord

DEFAULT_FILE = Path("waivers.yaml")
_FIELDS = {"clause", "reason", "expires"}


class WaiverError(Exception):
    pass


@dataclass(frozen=True)
class Waiver:
    clause: str
    reason: str
    expires: date

    def expired(self, on: date) -> bool:
        return on > self.expires

    def applies(self, on: date, outcome: str) -> bool:
        """Whether it covers a clause with this outcome in a run that started ``on``."""
        return not self.expired(on) and outcome in FAILING

    def record(self, on: date, outcome: str | None) -> WaiverRecord:
        """What became of it in a run that started ``on``, where its clause had ``outcome``."""
        status: Literal["applied", "unused", "expired"] = (
            "expired" if self.expired(on) else ("applied" if outcome in FAILING else "unused")
        )
        return WaiverRecord(self.clause, self.reason, self.expires.isoformat(), status)


def _expiry(value: Any, where: str) -> date:
    if isinstance(value, date):  # YAML reads an unquoted 2026-09-30 as a date already
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WaiverError(f"{where}: expires must be a date as YYYY-MM-DD, got {value!r}")


def parse_waivers(doc: Any, source: str, known_clauses: set[str] | None = None) -> list[Waiver]:
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("waivers", []), list):
        raise WaiverError(f"{source}: expected a mapping with a list under 'waivers'")
    if doc.get("version", 1) != 1:
        raise WaiverError(f"{source}: unsupported version {doc.get('version')!r} (this harness reads 1)")
    out: list[Waiver] = []
    for i, raw in enumerate(doc.get("waivers") or []):
        where = f"{source}: waivers[{i}]"
        if not isinstance(raw, dict):
            raise WaiverError(f"{where}: expected a mapping with clause, reason and expires")
        missing = sorted(_FIELDS - raw.keys())
        unknown = sorted(set(raw) - _FIELDS)
        if missing or unknown:
            problem = f"missing {', '.join(missing)}" if missing else f"unknown field(s) {', '.join(unknown)}"
            raise WaiverError(f"{where}: {problem}")
        clause, reason = raw["clause"], raw["reason"]
        if not isinstance(clause, str) or (known_clauses is not None and clause not in known_clauses):
            raise WaiverError(f"{where}: unknown clause {clause!r} (not in the contract)")
        if not isinstance(reason, str) or not reason.strip():
            raise WaiverError(f"{where}: a waiver needs a reason")
        if any(w.clause == clause for w in out):
            raise WaiverError(f"{where}: {clause} is waived twice")
        out.append(Waiver(clause, reason.strip(), _expiry(raw["expires"], where)))
    return out


def load_waivers(path: Path, known_clauses: set[str] | None = None) -> list[Waiver]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WaiverError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WaiverError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_waivers(doc, str(path), known_clauses)


def from_report(report: Report) -> list[Waiver]:
    """The waivers a report recorded (to re-render it with the same verdict)."""
    return [Waiver(w.clause, w.reason, date.fromisoformat(w.expires)) for w in report.waivers]
