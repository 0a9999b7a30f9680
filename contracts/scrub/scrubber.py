"""The scrubber: key rules on structures, shape rules on text, and both on exceptions and tracebacks.

What it accepts is whatever a log call can carry: nested mappings, lists, tuples, sets, bytes, JSON inside
strings, exceptions and arbitrary objects. What it returns is JSON-ready (str, int, float, bool, None, list,
dict with str keys), so a formatter can ``json.dumps`` it without a ``default=``.
"""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from contracts.scrub.rules import RuleSet
from contracts.scrub.text import Finding, TextScanner

MAX_DEPTH = 32
"""Deeper structures are cut (``[TRUNCATED]``): a log line is no place for them, and it bounds the work."""
MAX_JSON_IN_STRING = 1 << 20
"""Strings longer than this are scrubbed as text, not parsed as JSON."""
TRUNCATED = "[TRUNCATED]"
CYCLE = "[CYCLE]"


class Scrubber:
    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.text = TextScanner(rules)

    # -- text ------------------------------------------------------------------------------------------------

    def scrub_text(self, text: str) -> str:
        """Free text: shape rules plus ``key=value`` pairs under sensitive keys."""
        return self.text.scrub(text)

    def findings(self, text: str) -> list[Finding]:
        return self.text.findings(text)

    def key_family(self, key: str) -> str | None:
        """The family a value under ``key`` is redacted as, or None when the key is innocent."""
        rule = self.rules.key_rule_for(key)
        return rule.family if rule is not None else None

    # -- structures ------------------------------------------------------------------------------------------

    def scrub_value(self, value: Any) -> Any:
        """A JSON-ready, scrubbed copy of ``value``."""
        return self._value(value, 0, set())[0]

    def scrub_value_changed(self, value: Any) -> tuple[Any, bool]:
        """Like :meth:`scrub_value`, and whether anything was redacted (or had to be converted)."""
        return self._value(value, 0, set())

    def _value(self, value: Any, depth: int, seen: set[int]) -> tuple[Any, bool]:
        kind = type(value)
        if kind is str:  # by far the most frequent: straight to it
            return self._string(value, depth)
        if value is None or kind is int or kind is bool:
            return value, False
        if isinstance(value, (bool, int)):
            return value, False
        if isinstance(value, float):
            # JSON has no NaN or infinity: keep the information as text.
            return (value, False) if math.isfinite(value) else (repr(value), True)
        if isinstance(value, str):
            return self._string(value, depth)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._string(bytes(value).decode("utf-8", "replace"), depth)[0], True
        if depth >= MAX_DEPTH:
            return TRUNCATED, True
        if isinstance(value, BaseException):
            return self.exception_message(value, with_type=True), True
        if isinstance(value, Mapping):
            return self._mapping(value, depth, seen)
        if isinstance(value, (list, tuple, set, frozenset)):
            if id(value) in seen:
                return CYCLE, True
            seen.add(id(value))
            try:
                items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
                out = []
                changed = not isinstance(value, list)
                for item in items:
                    scrubbed, item_changed = self._value(item, depth + 1, seen)
                    out.append(scrubbed)
                    changed = changed or item_changed
                return out, changed
            finally:
                seen.discard(id(value))
        return self._string(_safe_str(value), depth)[0], True

    def _mapping(self, value: Mapping[Any, Any], depth: int, seen: set[int]) -> tuple[dict[str, Any], bool]:
        if id(value) in seen:
            return {CYCLE: CYCLE}, True
        seen.add(id(value))
        try:
            out: dict[str, Any] = {}
            changed = not isinstance(value, dict)
            for raw_key, item in value.items():
                key = raw_key if isinstance(raw_key, str) else _safe_str(raw_key)
                clean_key = self.text.scrub(key)  # a secret used as a key is still a secret
                changed = changed or clean_key != raw_key
                family = self.key_family(key)
                if family is not None and item is not None:
                    out[clean_key] = self.rules.marker_for(family)
                    changed = True
                    continue
                scrubbed, item_changed = self._value(item, depth + 1, seen)
                out[clean_key] = scrubbed
                changed = changed or item_changed
            return out, changed
        finally:
            seen.discard(id(value))

    def _string(self, text: str, depth: int) -> tuple[str, bool]:
        if not text or not (text[0] in "{[" or text[0].isspace()):  # cannot be JSON: skip the strip and parse
            clean = self.text.scrub(text)
            return clean, clean is not text and clean != text
        stripped = text.strip()
        if (
            len(stripped) >= 2
            and len(text) <= MAX_JSON_IN_STRING
            and depth < MAX_DEPTH
            and (stripped[0], stripped[-1]) in (("{", "}"), ("[", "]"))
        ):
            try:
                parsed = json.loads(stripped)
            except ValueError:
                parsed = None
            if isinstance(parsed, (dict, list)):
                scrubbed, changed = self._value(parsed, depth + 1, set())
                if not changed:
                    return text, False
                return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")), True
        clean = self.text.scrub(text)
        return clean, clean != text

    # -- exceptions ------------------------------------------------------------------------------------------

    def exception_message(self, exc: BaseException, *, with_type: bool = False) -> str:
        """``str(exc)`` with its arguments scrubbed structurally when the exception's own ``__str__`` is the
        default one (so ``ValueError({"api_key": ...})`` loses the value by key, not only by shape); otherwise
        its text, scrubbed by shape and ``key=value``."""
        cls = type(exc)
        args = exc.args
        if cls.__str__ is BaseException.__str__:
            if not args:
                text = ""
            elif len(args) == 1:
                scrubbed = self.scrub_value(args[0])
                text = scrubbed if isinstance(scrubbed, str) else str(scrubbed)
            else:
                text = str(tuple(self.scrub_value(a) for a in args))
        elif isinstance(exc, KeyError) and len(args) == 1:
            text = repr(self.scrub_value(args[0]))
        else:
            text = self.text.scrub(_safe_str(exc))
        if with_type:
            return f"{cls.__qualname__}: {text}" if text else cls.__qualname__
        return text

    def traceback_text(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> str:
        """The formatted traceback (chained causes and notes included, frame locals never), scrubbed as text:
        source lines and exception lines alike go through the shape and ``key=value`` rules."""
        try:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
        except Exception:  # a broken __str__ must not lose the log line
            text = f"{getattr(exc_type, '__qualname__', 'Exception')}: <traceback could not be formatted>"
        return self.text.scrub(text)

    def scrub_exception(self, exc: BaseException) -> dict[str, str]:
        return {
            "type": type(exc).__qualname__,
            "message": self.exception_message(exc),
            "traceback": self.traceback_text(type(exc), exc, exc.__traceback__),
        }


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return f"<unprintable {type(value).__qualname__}>"
