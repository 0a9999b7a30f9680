"""The protocol of ``gateway-contracts batch``: many harness runs from one process that has loaded the harness once.

A program that runs the harness many times (a mutation selftest, a matrix of targets) starts ``gateway-contracts
batch`` and writes one request per line on its stdin; each run is a fork of the batch process, which has imported
the harness, validated the contract and imported the conformance suite (asserts rewritten) once. A run is the very
``gateway-contracts ARGV`` command a user types: same parsing, same output, same exit status.

- request: ``{"argv": [...], "stdout": PATH, "stderr": PATH, "timeout": SECONDS}``: the command's arguments, the
  files its output goes to (created, truncated) and a bound on its run (optional; at the end of it the run's process
  group is killed);
- reply, one line once the run has ended: ``{"exit": STATUS}``, or ``{"exit": null, "error": WHY}`` when it gave
  no status (killed at its timeout, or by a signal).

Runs are one at a time per batch process (start one per parallel job). The end of stdin ends it. The harness and
the reference gateway's selftest both import this module, and nothing else of each other.
"""

from __future__ import annotations

import json
from typing import Any

COMMAND = "batch"


def request(argv: list[str], stdout: str, stderr: str, timeout: float | None = None) -> str:
    """One request line (with its newline)."""
    body: dict[str, Any] = {"argv": argv, "stdout": stdout, "stderr": stderr}
    if timeout is not None:
        body["timeout"] = timeout
    return json.dumps(body) + "\n"


def reply(exit_status: int | None, error: str = "") -> str:
    """One reply line (with its newline)."""
    body: dict[str, Any] = {"exit": exit_status}
    if error:
        body["error"] = error
    return json.dumps(body) + "\n"


def parse_reply(line: str) -> tuple[int | None, str]:
    """A reply's exit status and error; a line that is no reply (the batch process died) is a ``ValueError``."""
    try:
        body = json.loads(line)
    except ValueError:
        raise ValueError(f"not a batch reply: {line.strip()[:200] or 'end of output'}") from None
    if not isinstance(body, dict) or "exit" not in body:
        raise ValueError(f"not a batch reply: {line.strip()[:200]}")
    status = body["exit"]
    return (status if isinstance(status, int) else None), str(body.get("error", ""))
