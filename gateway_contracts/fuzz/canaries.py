"""Secrets in requests: the fake ones the fuzzer plants, and how the echo check finds any secret a request carried.

A request carries secrets in two ways: credentials in headers (``x-api-key``, ``Authorization``, the internal key,
cookies), and secrets a client put where they do not belong (a key pasted into a field). Random fuzzing data
almost never looks like the second kind, so the run plants *canaries*: obviously fake secrets in the shapes of
the well-known families, fed through a schemathesis fuzz dictionary into fields that are not prompt content
(roles, metadata, headers). A response that contains one, or a credential the request sent, echoes a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

CANARIES: tuple[str, ...] = (
    # Shapes of the families secret scanners know; each is visibly fake ("gcfuzzcanary").
    "sk-ant-api03-gcfuzzcanary" + "0" * 69 + "AA",
    "sk-proj-gcfuzzcanary" + "0" * 28,
    "ghp_gcfuzzcanary" + "0" * 24,
    "AKIAGCFUZZCANARY0000",
    "xoxb-000000000000-000000000000-gcfuzzcanary0000000000000",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnY2Z1enpjYW5hcnkifQ.Z2NmdXp6Y2FuYXJ5c2lnbmF0dXJlMDAw",
    "ai_infera_gcfuzzcanary" + "0" * 20,
)

CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_CREDENTIAL_WORDS = frozenset({"key", "apikey", "token", "secret", "password", "credential"})


def is_credential_header(name: str) -> bool:
    """``authorization``, ``cookie``, or a name with a credential word as one of its ``-`` parts
    (``x-api-key``, ``x-internal-key``, ``x-team-token``), whatever the gateway calls it; ``x-portkey-provider``
    is not one (the word must be a whole part)."""
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or bool(_CREDENTIAL_WORDS & set(re.split(r"[-_]", lowered)))


_AUTH_SCHEMES = ("bearer ", "basic ", "token ")
MIN_SECRET_LENGTH = 8
"""Shorter credential values (``0``, ``x``) occur in any response by chance; they prove nothing."""

# Secret shapes a client may have sent on its own (its real key in the wrong field, say). Anchored on the
# family prefixes, so ordinary words, ids and hashes never match.
SHAPES = re.compile(
    r"(?:sk-ant-[A-Za-z0-9_-]{16,}|sk-(?:proj-)?[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}|(?:AKIA|ASIA)[A-Z0-9]{16}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|glpat-[A-Za-z0-9_-]{20,}|AIza[A-Za-z0-9_-]{35}|ai_infera_[A-Za-z0-9_-]{16,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)


def request_secrets(headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
    """Every secret the request carried, mapped to where it was (for the finding's message)."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if is_credential_header(lowered):
            credential = _strip_scheme(value)
            if len(credential) >= MIN_SECRET_LENGTH:
                found.setdefault(credential, f"the {name} header")
        for secret in _shaped(value):
            found.setdefault(secret, f"the {name} header")
    if body:
        text = body.decode("utf-8", "replace")
        for secret in _shaped(text):
            found.setdefault(secret, "the body")
        # JSON escapes (\u00xx, \/) could hide a canary from the plain search above.
        for string in _json_strings(text):
            for secret in _shaped(string):
                found.setdefault(secret, "the body")
    return found


def echoes(secrets: Mapping[str, str], headers: Mapping[str, list[str]], content: bytes) -> list[str]:
    """One line per secret that comes back in the response's headers or body."""
    out: list[str] = []
    text = content.decode("utf-8", "replace")
    decoded = " ".join(_json_strings(text))
    for secret, origin in secrets.items():
        for name, values in headers.items():
            if any(secret in value for value in values):
                out.append(f"{mask(secret)} from {origin} is echoed in the {name} response header")
        if secret in text or secret in decoded:
            out.append(f"{mask(secret)} from {origin} is echoed in the response body")
    return out


def mask(secret: str) -> str:
    """Enough of a secret to recognise it in the report, not enough to use it (canaries are fake anyway)."""
    return f"{secret[:10]}…({len(secret)} chars)"


def _strip_scheme(value: str) -> str:
    lowered = value.lower()
    for scheme in _AUTH_SCHEMES:
        if lowered.startswith(scheme):
            return value[len(scheme) :].strip()
    return value.strip()


def _shaped(text: str) -> Iterator[str]:
    for canary in CANARIES:
        if canary in text:
            yield canary
    yield from SHAPES.findall(text)


def _json_strings(text: str) -> Iterator[str]:
    try:
        value: Any = json.loads(text)
    except ValueError:
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
