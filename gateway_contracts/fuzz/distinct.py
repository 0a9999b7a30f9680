"""What tells two failures of one check on one operation apart: a finding is one (operation, check, title, what).

The contract's own checks put *what* broke in the title (``hooks.py``). schemathesis' built-in checks give one
title to a whole kind of failure ("Response violates schema"), and tell instances apart by a key of their own
(``Failure._unique_key``: the schema path, the missing headers, the status …), which its NDJSON report does not
carry. Keyed by title alone, an operation whose error bodies break the schema showed one finding, and a second
schema violation of its successful answers hid behind it. Here the same key is read back from what the report
does carry: the failure's type, its message and the answer's status, and only the stable parts of them, never
the generated values (a baseline stores the key, so it must not change from run to run).

:func:`distinction` gives the key and a short text for people (the finding's ``detail``), both empty where the
title already says it all.
"""

from __future__ import annotations

import hashlib
import re

_SCHEMA_AT = re.compile(r"^Schema(?: at (?P<path>\S+))?:$")
_STATUS_CONTEXT = re.compile(r"response schema for status code (?P<status>\d{3})")
_FIRST_KEY = re.compile(r'^\s*\{\s*"(?P<key>[^"]+)"')
_REQUIRED = re.compile(r'^"(?P<name>[^"]+)" is a required property$')
_BACKTICKED = re.compile(r"^- `(?P<name>[^`]+)`$", re.M)
_RECEIVED = re.compile(r"^Received: (?P<value>.+)$", re.M)
_MISSING_HEADER = re.compile(r"missing required '(?P<name>[^']+)' header")

BY_STATUS = frozenset(
    {
        "UndefinedStatusCode",
        "ServerError",
        "ContentTypeServerError",
        "RejectedPositiveData",
        "AcceptedNegativeData",
    }
)
"""Failure types schemathesis keys on the answer's status."""


def _schema_error(message: str) -> tuple[str, str]:
    """A JSON Schema violation is where in the schema it broke: the status whose schema it was, the schema's
    path and the keyword that failed (the schema shown is the one at that path, so it is part of the key)."""
    paragraphs = message.split("\n\n")
    heading = next(((i, m) for i, p in enumerate(paragraphs) if (m := _SCHEMA_AT.match(p.strip()))), None)
    if heading is None:  # not the message schemathesis writes: its first line is all there is to go by
        first = message.split("\n", 1)[0]
        return first, first
    at, match = heading
    schema = paragraphs[at + 1] if at + 1 < len(paragraphs) else ""
    statuses = [m["status"] for p in paragraphs[:at] if (m := _STATUS_CONTEXT.search(p))]
    status = statuses[0] if statuses else ""
    path = match["path"] or ""
    first_key = _FIRST_KEY.match(schema)
    keyword = first_key["key"] if first_key else "schema"
    # The detail names the property only for `required`: other messages quote the generated value. Two
    # violations of one keyword at one path are one finding, as schemathesis counts them.
    required = _REQUIRED.match(paragraphs[0].strip())
    what = f'"{required["name"]}" required' if required and keyword == "required" else keyword
    where = ", ".join(x for x in (f"{status} answer" if status else "", path) if x)
    detail = f"{where}: {what}" if where else what
    digest = hashlib.sha256(schema.encode()).hexdigest()[:12]
    return f"{status}|{path}|{keyword}|{digest}", detail


def distinction(kind: str, message: str, status: int | None) -> tuple[str, str]:
    """``(key, detail)`` for a failure of type ``kind`` (schemathesis' class name) on an answer of ``status``."""
    if kind == "JsonSchemaError":
        return _schema_error(message)
    if kind in BY_STATUS and status is not None:
        return str(status), f"status {status}"
    if kind == "MissingHeaders":
        names = ", ".join(m["name"] for m in _BACKTICKED.finditer(message))
        return names, f"missing {names}" if names else ""
    if kind in ("UndefinedContentType", "MalformedMediaType"):
        received = _RECEIVED.search(message)
        return (received["value"], f"received {received['value']}") if received else ("", "")
    if kind == "MissingHeaderNotRejected":
        header = _MISSING_HEADER.search(message)
        return (header["name"], f"without {header['name']}") if header else ("", "")
    if kind == "UnsupportedMethodResponse":
        return (
            ("missing_allow_header", "no Allow header")
            if "`Allow`" in message
            else ("wrong_status", "wrong status")
        )
    if kind == "AllowHeaderMismatch":
        first = message.split("\n", 1)[0]
        return first, first
    return "", ""
