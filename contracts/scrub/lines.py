"""Scrubbing log lines as they come: a JSON line structurally (keys and values), any other line as text.

A JSON line in which nothing was redacted is returned byte for byte as it came, so scrubbing a clean log
changes nothing, not even whitespace or key order.
"""

from __future__ import annotations

import json

from contracts.scrub.scrubber import Scrubber
from contracts.scrub.text import Finding


def _json_body(line: str) -> object | None:
    stripped = line.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        value: object = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


def scrub_line(scrubber: Scrubber, line: str) -> str:
    """One line (without its line ending), scrubbed."""
    body = _json_body(line)
    if body is None:
        return scrubber.scrub_text(line)
    scrubbed, changed = scrubber.scrub_value_changed(body)
    if not changed:
        return line
    return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))


def line_findings(scrubber: Scrubber, line: str) -> list[tuple[str, str]]:
    """(rule id, family) of everything :func:`scrub_line` would redact in ``line``; never the secret itself."""
    body = _json_body(line)
    if body is None:
        return [(f.rule_id, f.family) for f in scrubber.findings(line)]
    out: list[tuple[str, str]] = []
    _walk(scrubber, body, out, 0)
    return out


def _walk(scrubber: Scrubber, value: object, out: list[tuple[str, str]], depth: int) -> None:
    if depth > 32:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_text(scrubber, str(key)))
            rule = scrubber.rules.key_rule_for(str(key))
            if rule is not None and item is not None:
                out.append((rule.id, rule.family))
            else:
                _walk(scrubber, item, out, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(scrubber, item, out, depth + 1)
    elif isinstance(value, str):
        inner = _json_body(value)
        if inner is not None:
            _walk(scrubber, inner, out, depth + 1)
        else:
            out.extend(_text(scrubber, value))


def _text(scrubber: Scrubber, text: str) -> list[tuple[str, str]]:
    findings: list[Finding] = scrubber.findings(text)
    return [(f.rule_id, f.family) for f in findings]
