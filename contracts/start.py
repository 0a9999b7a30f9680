"""How the harness starts a gateway it is to check, and learns where it is: the start command's protocol.

A target can name a command (``[target] start = [...]``) instead of, or besides, a base URL. The harness runs it in
a process group of its own and:

- gives it, in the environment, :data:`GIVEN_ENV` (the target options the file and the flags set, as one JSON
  object keyed by the options' dotted names, so the command can honour them: the database to use, say) and
  :data:`WORKDIR_ENV` (a directory for its files, which the harness keeps after the run);
- reads its stdout until one line is the ready line: ``{"gateway-contracts-ready": {OPTION: VALUE, ...}}``, keyed by
  target options (``target.base_url``, ``capture.db_url``, ``logs.file``, ``auth.api_key``, ...). Other lines are
  ignored. The file and the flags win over what the line says; the line wins over the environment's defaults;
- stops it at the end: it closes the command's stdin (a pipe), then signals its whole process group (SIGTERM,
  then SIGKILL after a bounded wait).

The harness and the reference gateway's ``embedded`` command both import this module, and nothing else of each
other: any gateway can be started this way.
"""

from __future__ import annotations

import json
import os
from typing import Any

READY_KEY = "gateway-contracts-ready"
GIVEN_ENV = "GATEWAY_CONTRACTS_TARGET"
WORKDIR_ENV = "GATEWAY_CONTRACTS_WORKDIR"


def ready_line(values: dict[str, Any]) -> str:
    """The line a start command prints once the gateway answers (without the newline)."""
    return json.dumps({READY_KEY: values}, separators=(",", ":"))


def parse_ready(line: str) -> dict[str, Any] | None:
    """The option values of a ready line; ``None`` for any other line. A ready line whose values are not an
    object is a ``ValueError`` (the command meant to say it was ready, and said it wrong)."""
    text = line.strip()
    if not text.startswith("{") or READY_KEY not in text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or READY_KEY not in doc:
        return None
    values = doc[READY_KEY]
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise ValueError("the ready line's value must be an object of target options")
    return values


def given_options(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """What the harness passed in :data:`GIVEN_ENV` (``{}`` when started by hand, or when it is not JSON)."""
    raw = (os.environ if environ is None else environ).get(GIVEN_ENV, "")
    try:
        doc = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
