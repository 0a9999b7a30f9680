"""Finding secrets in free text: the shape rules, plus the key rules applied to ``key=value`` pairs in text.

Every rule is matched against the *original* text and the spans are merged before anything is replaced, so
rules never see each other's markers, overlapping findings (a JWT after ``Bearer`` after ``Authorization:``)
become one redaction, and scrubbing is idempotent: ``scrub(scrub(t)) == scrub(t)``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from contracts.scrub.rules import RuleSet

# A key followed by ':' or '=', as in `api_key=...`, `"password": ...`, `'content': [...]`, `Authorization: ...`.
# ':' followed by '//' is a URL scheme and '==' a comparison; neither introduces a value.
_KEY_VALUE = re.compile(
    r"""(?<![A-Za-z0-9_.-])(?P<q>["']?)(?P<key>[A-Za-z_][A-Za-z0-9_.-]{0,63})(?P=q)[ \t]{0,3}"""
    r"""(?::(?!//)|=(?!=))[ \t]{0,3}"""
)
_BARE_VALUE = re.compile(r"""[^\s,;&'"}\])]+""")
_NEXT_TOKEN = re.compile(r"""[ \t]+([^\s,;&'"}\])]+)""")
_AUTH_SCHEMES = frozenset(
    {"bearer", "basic", "token", "bot", "digest", "apikey", "sso-key", "aws4-hmac-sha256"}
)
_NOT_SECRET_VALUES = frozenset({"none", "null", "true", "false", "nil", "undefined", ""})
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
_REDACTED_PREFIX = "[REDACTED"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    family: str
    start: int
    end: int
    quoted: bool = False
    """Write the marker as a JSON string: the value was bare (a structure, a number) after a JSON key, so a bare
    marker there would leave text that was JSON no longer JSON."""


def _quoted_end(text: str, start: int) -> int:
    """Index of the quote closing the string opened at ``start`` (backslash escapes honoured), or the end of
    the line when it never closes."""
    quote = text[start]
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == quote:
            return i
        if ch == "\n":
            return i
        i += 1
    return n


def _bracket_end(text: str, start: int) -> int:
    """Index just past the bracket closing the one at ``start`` (quotes honoured), or the end of the line."""
    stack = [_CLOSERS[text[start]]]
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            i = _quoted_end(text, i) + 1
            continue
        if ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
        elif ch == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1
        elif ch == "\n":
            return i
        i += 1
    return n


def value_span(text: str, pos: int) -> tuple[int, int] | None:
    """The span of the value starting at ``pos``: inside its quotes, a whole bracketed structure, or a bare
    token (with the credential after an auth scheme word: ``Bearer abc``). None for no value, for values that
    carry nothing (``None``, ``null``, booleans) and for values already redacted."""
    if pos >= len(text):
        return None
    ch = text[pos]
    if ch in "bB" and pos + 1 < len(text) and text[pos + 1] in "\"'":  # a bytes literal: b'...'
        pos += 1
        ch = text[pos]
    if ch in "\"'":
        end = _quoted_end(text, pos)
        start = pos + 1
    elif ch in _CLOSERS:
        start, end = pos, _bracket_end(text, pos)
    else:
        m = _BARE_VALUE.match(text, pos)
        if m is None:
            return None
        start, end = m.span()
        if m.group().lower() in _AUTH_SCHEMES:
            # `Bearer abc`: the credential is the next token; the scheme word stays readable.
            nxt = _NEXT_TOKEN.match(text, end)
            if nxt is not None:
                start, end = nxt.span(1)
    value = text[start:end]
    if (
        value.lower() in _NOT_SECRET_VALUES
        or value.startswith(_REDACTED_PREFIX)
        or set(value) <= {"*", "x", "X"}
    ):
        return None
    return start, end


class KeywordIndex:
    """Which prefilter keywords occur in a (lower-cased) text.

    A plain substring test per keyword, in one comprehension: measured faster than one regex alternation of
    the same keywords (sre tries every alternative at every position), and exact with overlapping keywords.
    """

    def __init__(self, keywords: set[str]) -> None:
        self._keywords = tuple(sorted(keywords))

    def present(self, lowered: str) -> set[str]:
        return {k for k in self._keywords if k in lowered}


CLEAN_CACHE_SIZE = 4096
CLEAN_CACHE_MAX_LEN = 256


class CleanCache:
    """Short strings already found clean (methods, routes, event names, user agents: log values repeat a lot).

    Only strings that came out unchanged are remembered, so a detected secret is never kept here. Least
    recently used entries go first; races between threads can at worst drop an entry, never return a wrong one
    (a hit only ever means "this exact string was clean").
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[str, None] = {}

    def hit(self, text: str) -> bool:
        try:
            self._entries[text] = self._entries.pop(text)
        except KeyError:
            return False
        return True

    def add(self, text: str) -> None:
        self._entries[text] = None
        if len(self._entries) > self._size:
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del self._entries[next(iter(self._entries))]


class TextScanner:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._kv_keywords = frozenset(rules.text_key_values.keywords)
        self._always = [i for i, rule in enumerate(rules.shapes) if not rule.keywords]
        self._by_keyword: dict[str, list[int]] = {}
        for i, rule in enumerate(rules.shapes):
            for keyword in rule.keywords:
                self._by_keyword.setdefault(keyword, []).append(i)
        self._index = KeywordIndex(set(self._kv_keywords) | set(self._by_keyword))
        self._clean = CleanCache(CLEAN_CACHE_SIZE)

    def findings(self, text: str) -> list[Finding]:
        """Every rule's findings in ``text``, unmerged, in rule order."""
        if not text:
            return []
        present = self._index.present(text.lower())
        selected = set(self._always)
        for keyword in present:
            selected.update(self._by_keyword.get(keyword, ()))
        found: list[Finding] = []
        for index in sorted(selected):
            rule = self.rules.shapes[index]
            for m in rule.pattern.finditer(text):
                start, end = m.span(rule.group)
                if start < 0 or start == end:
                    continue
                if rule.check is not None and not rule.check(m.group(rule.group)):
                    continue
                found.append(Finding(rule.id, rule.family, start, end))
        if not self._kv_keywords.isdisjoint(present):
            found.extend(self._key_values(text))
        return found

    def _key_values(self, text: str) -> list[Finding]:
        rule_id = self.rules.text_key_values.id
        out: list[Finding] = []
        for m in _KEY_VALUE.finditer(text):
            key_rule = self.rules.key_rule_for(m.group("key"))
            if key_rule is None:
                continue
            span = value_span(text, m.end())
            if span is not None:
                bare = m.end() < len(text) and text[m.end()] not in "\"'"
                out.append(Finding(rule_id, key_rule.family, *span, quoted=bare and m.group("q") == '"'))
        return out

    def scrub(self, text: str) -> str:
        if len(text) <= CLEAN_CACHE_MAX_LEN:
            if self._clean.hit(text):
                return text
            out = self.apply(text, self.findings(text))
            if out == text:
                self._clean.add(text)
            return out
        return self.apply(text, self.findings(text))

    def apply(self, text: str, findings: list[Finding]) -> str:
        """Replace the union of the findings' spans with markers (overlaps merge; the earliest, then longest,
        finding names the family)."""
        if not findings:
            return text
        ordered = sorted(findings, key=lambda f: (f.start, -f.end))
        parts: list[str] = []
        pos = 0
        first = ordered[0]
        cur_start, cur_end, cur_family, cur_quoted = first.start, first.end, first.family, first.quoted
        for f in ordered[1:]:
            if f.start < cur_end:
                cur_end = max(cur_end, f.end)
                continue
            parts.append(text[pos:cur_start])
            parts.append(self._marker(cur_family, cur_quoted))
            pos = cur_end
            cur_start, cur_end, cur_family, cur_quoted = f.start, f.end, f.family, f.quoted
        parts.append(text[pos:cur_start])
        parts.append(self._marker(cur_family, cur_quoted))
        parts.append(text[cur_end:])
        return "".join(parts)

    def _marker(self, family: str, quoted: bool) -> str:
        marker = self.rules.marker_for(family)
        return f'"{marker}"' if quoted else marker
