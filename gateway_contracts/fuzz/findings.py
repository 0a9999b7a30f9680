"""Findings: one per distinct failure, each with the request that showed it as a curl command.

A finding is one (operation, check, title, what differs): two failures of one check on one operation are two
findings when they break different things (``distinct``), so that one finding never hides another. The first
request that showed each one is its reproduction.

``findings.json`` is the fuzz run's contribution to the compliance report: a stable, documented shape (below) that
the report folds in without knowing schemathesis. The fingerprint is what the baseline stores; it leaves out
everything that changes from run to run (request ids, generated values, case ids). A finding whose title says it
all (every contract check's) has the fingerprint of its (operation, check, title), as it always had.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway_contracts.fuzz.canaries import is_credential_header
from gateway_contracts.fuzz.distinct import distinction
from gateway_contracts.fuzz.events import CheckFailure, Request, RunError, RunEvents
from gateway_contracts.reports.reproduce import header_variable

FORMAT_VERSION = 1
FILTERED = "[Filtered]"


def credential_env(name: str) -> str | None:
    """Credentials are masked in schemathesis' reports; the reproduction reads them from the environment (the
    variables ``--api-key`` and ``--internal-key`` read), whatever header the gateway takes them in."""
    if not is_credential_header(name):
        return None
    variable = "${" + header_variable(name) + "}"
    return f"Bearer {variable}" if name.lower() == "authorization" else variable


EXCERPT = 500


@dataclass(frozen=True)
class Finding:
    fingerprint: str
    operation: str
    check: str
    code: str
    title: str
    message: str
    phase: str
    status: int | None
    response_excerpt: str
    curl: str | None
    new: bool = True
    clause: str | None = None
    """The clause the finding breaks (``gateway_contracts.fuzz.clauses``)."""
    detail: str = ""
    """What this finding breaks where its title does not say (``distinct``): the schema path, the header …"""

    @property
    def headline(self) -> str:
        """The title, with what differs from the check's other findings on the operation when it does not say."""
        return f"{self.title} ({self.detail})" if self.detail else self.title

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint(operation: str, check: str, title: str, key: str = "") -> str:
    """The finding's identity for the baseline; ``key`` tells apart findings of one title (``distinct``)."""
    text = f"{operation}\0{check}\0{title}" + (f"\0{key}" if key else "")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def curl_command(request: Request) -> str:
    parts = ["curl", "-sS", "-N", "-X", request.method]
    for name, value in request.headers.items():
        env = credential_env(name)
        if value == FILTERED and env is not None:
            parts.append(f'-H "{name}: {env}"')  # double quotes: the shell expands the variable
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    prefix = ""
    if request.body is not None:
        try:
            parts += ["--data-binary", shlex.quote(request.body.decode("utf-8"))]
        except UnicodeDecodeError:
            encoded = base64.b64encode(request.body).decode("ascii")
            prefix = f"echo {encoded} | base64 -d | "
            parts += ["--data-binary", "@-"]
    parts.append(shlex.quote(request.uri))
    return prefix + " ".join(parts)


def _as_probed(failure: CheckFailure, request: Request) -> Request:
    """``ignored_auth`` records the authenticated request; what it proved was about the same request sent
    without credentials or with wrong ones, so that is what the reproduction sends."""
    if failure.check != "ignored_auth":
        return request
    wrong = "invalid" in failure.title.lower()
    headers = {}
    for name, value in request.headers.items():
        if credential_env(name) is None:
            headers[name] = value
        elif wrong:
            headers[name] = "gateway-contracts-wrong-key"
    return dataclasses.replace(request, headers=headers)


def _from_failure(failure: CheckFailure) -> Finding:
    interaction = failure.interaction
    status = interaction.status if interaction else None
    key, detail = distinction(failure.kind, failure.message, status)
    return Finding(
        fingerprint=fingerprint(failure.label, failure.check, failure.title, key),
        operation=failure.label,
        check=failure.check,
        code=failure.code,
        title=failure.title,
        message=failure.message,
        phase=failure.phase,
        status=status,
        response_excerpt=interaction.content[:EXCERPT].decode("utf-8", "replace") if interaction else "",
        curl=curl_command(_as_probed(failure, interaction.request)) if interaction else None,
        detail=detail,
    )


def _from_error(error: RunError) -> Finding:
    title = error.message.strip().splitlines()[0][:160] if error.message.strip() else "error"
    return Finding(
        fingerprint=fingerprint(error.label, "error", title),
        operation=error.label,
        check="error",
        code="error",
        title=title,
        message=error.message,
        phase=error.phase,
        status=None,
        response_excerpt="",
        curl=None,
    )


def collect(events: RunEvents, extra: list[Finding] | None = None) -> list[Finding]:
    """One finding per distinct failure (the first request that showed it), in a stable order (by operation,
    check, title, what differs)."""
    found: dict[str, Finding] = {}
    for item in [*(_from_failure(f) for f in events.failures), *(_from_error(e) for e in events.errors)]:
        found.setdefault(item.fingerprint, item)
    for item in extra or []:
        found.setdefault(item.fingerprint, item)
    return sorted(found.values(), key=lambda f: (f.operation, f.check, f.title, f.detail))


def write(path: Path, findings: list[Finding], meta: dict[str, Any]) -> None:
    document = {"format_version": FORMAT_VERSION, **meta, "findings": [f.as_dict() for f in findings]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
