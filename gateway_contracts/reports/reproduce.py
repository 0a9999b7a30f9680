"""Commands that reproduce a finding: the failing request as curl, and the failing test as a ``check`` run.

Both are built from *scrubbed* evidence. A header whose value the scrubber redacted becomes a shell variable
(``x-api-key`` → ``"$GATEWAY_API_KEY"``), so the command runs once the reader exports their own credential, and
a report never carries one.
"""

from __future__ import annotations

import re
import shlex

from gateway_contracts.errors import redact_url
from gateway_contracts.reports.model import Exchange
from gateway_contracts.target import Target

_REDACTED = re.compile(r"\[REDACTED:[a-z0-9-]+\]")
MAX_CURL_BODY = 4000


_CLIENT_KEY_HEADERS = {"x-api-key", "authorization", "api-key"}


def header_variable(name: str) -> str:
    """The shell variable a redacted header's value is read from (the same one ``--internal-key`` uses)."""
    lowered = name.lower()
    if lowered in _CLIENT_KEY_HEADERS:
        return "GATEWAY_API_KEY"  # the variable --api-key reads
    if "internal-key" in lowered:
        return "GATEWAY_INTERNAL_KEY"  # the variable --internal-key reads
    stem = name.lower().removeprefix("x-")
    return "GATEWAY_" + re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_").upper()


def _header_arg(name: str, value: str) -> str:
    if _REDACTED.search(value):
        # The redacted part becomes the shell variable (double quotes, so the shell expands it), the rest stays
        # as sent ("Bearer " included), each quoted; adjacent words make one argument.
        variable = f"${header_variable(name)}"
        if name.lower() == "authorization" and _REDACTED.fullmatch(value.strip()):
            value = (
                "Bearer " + value.strip()
            )  # the scrubber redacts the scheme too; the client key is a Bearer token
        pieces = _REDACTED.split(f"{name}: {value}")
        if not any(c in piece for piece in pieces for c in '"$`\\!'):
            return '"' + variable.join(pieces) + '"'
        return f'"{variable}"'.join(shlex.quote(p) if p else "" for p in pieces)
    return shlex.quote(f"{name}: {value}")


def curl(base_url: str, exchange: Exchange) -> str:
    """``curl`` for a recorded (and scrubbed) request: method, URL, headers and body as sent."""
    parts = [
        "curl",
        "-sS",
        "-N",
        "-X",
        shlex.quote(exchange.method),
        shlex.quote(base_url + exchange.path),
    ]
    for name, value in exchange.request_headers.items():
        parts += ["-H", _header_arg(name, value)]
    body = exchange.request_body
    if body:
        if len(body) > MAX_CURL_BODY:
            body = body[:MAX_CURL_BODY] + "…"
        parts += ["--data-binary", shlex.quote(body)]
    return " ".join(parts)


def rerun(target: Target | None, nodeid: str) -> str:
    """``gateway-contracts check`` selecting just this test, against the same target with the same inputs: its
    target file when it had one, else its flags, each secret read from the environment variable that holds it."""
    from gateway_contracts.target import options
    from gateway_contracts.target.flags import to_flags

    name = nodeid.rsplit("::", 1)[-1]
    parts = ["gateway-contracts", "check"]
    config = target.given.get("config") if target is not None else None
    if target is not None and config:
        parts += ["--config", shlex.quote(str(config))]
    elif target is not None and not target.embedded:
        flags = to_flags(target)
        secret_flags = {o.flag: o for o in options.OPTIONS if o.secret}
        i = 0
        while i < len(flags):
            flag, value = flags[i], flags[i + 1] if i + 1 < len(flags) else ""
            if flag in secret_flags and i + 1 < len(flags):
                o = secret_flags[flag]
                shown = f'"${o.env}"' if o.env else shlex.quote(redact_url(value))
                parts += [flag, shown]
                i += 2
                continue
            parts.append(shlex.quote(flag))
            i += 1
    parts += ["-k", shlex.quote(name)]
    return " ".join(parts)
