"""The gateway's log lines of one call, for the logs and trace clauses."""

from __future__ import annotations

from pathlib import Path

from gateway_contracts.capture.invariants import poll
from gateway_contracts.logs import LogLine, read_lines
from gateway_contracts.target import Target

ACCESS_WAIT = 5.0


def log_path(target: Target) -> Path:
    assert target.log_file, "the logs profile needs --log-file"
    return target.log_file


def lines_of(target: Target, request_id: str, start: int) -> list[LogLine]:
    """The log lines carrying the call's request id (in the target's ``request_id.log_field``). A gateway
    writes the call's last line, its access line, around the time it answers; an outside observer has no signal
    for it, so this polls with a bounded deadline until an access line (a logger named ``*access*``) is there;
    a gateway without one costs the deadline, and its lines are judged as found."""
    field = target.request_id_log_field

    def read() -> list[LogLine]:
        return [
            ln
            for ln in read_lines(log_path(target), start)
            if ln.record and ln.record.get(field) == request_id
        ]

    return poll(
        read,
        lambda lines: any("access" in str(ln.record.get("logger", "")) for ln in lines if ln.record),
        ACCESS_WAIT,
    )
