"""Commands that reproduce a finding: the failing request as curl, and the failing test as a ``check`` run.

Both are built from *scrubbed* evidence. A header whose value the scrubber redacted becomes a shell variable
(``x-api-key`` → ``"$GATEWAY_API_KEY"``), so the command runs once the reader exports their own credential, and
a report never carries one.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from gateway_contracts.errors import redact_url
from gateway_contracts.target import Target

_REDACTED = re.compile(r"\[REDACTED:[a-z0-9-]+\]")
DEFAULT_BODY_LIMIT = 32 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
MAX_CURL_BODY = 4000


_KNOWN_VARIABLES = {"x-api-key": "GATEWAY_API_KEY", "x-ainfera-internal-key": "GATEWAY_INTERNAL_KEY"}


def header_variable(name: str) -> str:
    """The shell variable a redacted header's value is read from (the same one ``--internal-key`` uses)."""
    known = _KNOWN_VARIABLES.get(name.lower())
    if known:
        return known
    stem = name.lower().removeprefix("x-")
    return "GATEWAY_" + re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_").upper()


def _header_arg(name: str, value: str) -> str:
    if _REDACTED.search(value):
        # Double quotes so the shell expands the variable; header names are tokens, never quotes or `$`.
        return f'"{name}: ${header_variable(name)}"'
    return shlex.quote(f"{name}: {value}")


def curl(base_url: str, request: dict[str, Any]) -> str:
    """``curl`` for a recorded (and scrubbed) request: method, URL, headers and body as sent."""
    parts = [
        "curl",
        "-sS",
        "-N",
        "-X",
        shlex.quote(request["method"]),
        shlex.quote(base_url + request["path"]),
    ]
    for name, value in request["headers"].items():
        parts += ["-H", _header_arg(name, value)]
    body: str = request["body"]
    if body:
        if len(body) > MAX_CURL_BODY:
            body = body[:MAX_CURL_BODY] + "…"
        parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)


def rerun(target: Target | None, nodeid: str) -> str:
    """``gateway-contracts check`` selecting just this test, against the same target with the same inputs."""
    name = nodeid.rsplit("::", 1)[-1]
    parts = ["gateway-contracts", "check"]
    if target is not None and not target.embedded:
        parts += ["--target", shlex.quote(target.base_url)]
        for flag, value in (
            ("--db-url", target.db_url),
            ("--log-file", str(target.log_file) if target.log_file else None),
            ("--upstream-url", target.upstream_url),
            ("--kill-switch-url", target.kill_switch_url),
            ("--kill-switch-db-url", target.kill_switch_db_url),
        ):
            if value:
                parts += [flag, shlex.quote(redact_url(value))]
        if target.internal_key:
            parts += ["--internal-key", f'"${_KNOWN_VARIABLES["x-ainfera-internal-key"]}"']
        for feature in sorted(target.features):
            parts += ["--feature", feature]
        if target.body_limit != DEFAULT_BODY_LIMIT:
            parts += ["--body-limit", str(target.body_limit)]
        if target.timeout != DEFAULT_TIMEOUT:
            parts += ["--timeout", f"{target.timeout:g}"]
    parts += ["-k", shlex.quote(name)]
    return " ".join(parts)
