"""Loading and compiling ``contracts/scrubbing.yaml`` into a :class:`RuleSet`.

The file is validated as it is compiled (unique ids, known checks, patterns that compile, a ``secret`` group
where one is named), so a broken rule fails when the scrubber is built, not silently on the first log line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import CONTRACTS_DIR, parse_yaml
from contracts.scrub.checks import Check, build_check

DEFAULT_RULES_PATH = CONTRACTS_DIR / "scrubbing.yaml"

_KEY_STRIP = str.maketrans("", "", "-_. ")


def normalize_key(key: str) -> str:
    """``API-Key``, ``api_key``, ``apiKey`` and ``api.key`` all become ``apikey``."""
    return key.lower().translate(_KEY_STRIP)


@dataclass(frozen=True)
class KeyRule:
    id: str
    family: str
    exact: frozenset[str]
    suffixes: tuple[str, ...]
    contains: tuple[str, ...]

    def matches(self, normalized: str) -> bool:
        return (
            normalized in self.exact
            or normalized.endswith(self.suffixes)
            or any(word in normalized for word in self.contains)
        )


@dataclass(frozen=True)
class ShapeRule:
    id: str
    family: str
    pattern: re.Pattern[str]
    group: str | int
    """``"secret"`` when the pattern names that group (only it is redacted), else 0 (the whole match)."""
    keywords: tuple[str, ...]
    """Lower-case prefilter words; empty means the rule runs on every text."""
    check: Check | None
    description: str = ""


@dataclass(frozen=True)
class TextKeyValueRule:
    id: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    version: int
    marker: str
    key_rules: tuple[KeyRule, ...]
    key_allow: frozenset[str]
    text_key_values: TextKeyValueRule
    shapes: tuple[ShapeRule, ...]

    def marker_for(self, family: str) -> str:
        return self.marker.format(family=family)

    def key_rule_for(self, key: str) -> KeyRule | None:
        """The key rule a (raw) key falls under, or None for an innocent key."""
        if len(key) <= 64:  # keys are a small vocabulary: remember the decision
            return self._cached_key_rule(key)
        return self._key_rule(key)

    @functools.cached_property
    def _cached_key_rule(self) -> Callable[[str], KeyRule | None]:
        return functools.lru_cache(maxsize=2048)(self._key_rule)

    def _key_rule(self, key: str) -> KeyRule | None:
        normalized = normalize_key(key)
        if not normalized or normalized in self.key_allow:
            return None
        for rule in self.key_rules:
            if rule.matches(normalized):
                return rule
        return None

    @property
    def families(self) -> list[str]:
        seen = dict.fromkeys([r.family for r in self.key_rules] + [r.family for r in self.shapes])
        return list(seen)

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in self.key_rules] + [self.text_key_values.id] + [r.id for r in self.shapes]


def _words(values: Iterable[Any], rule_id: str, field: str) -> tuple[str, ...]:
    out = []
    for value in values:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{rule_id}: {field} must be a list of non-empty strings")
        out.append(value)
    return tuple(out)


def _key_rule(raw: dict[str, Any]) -> KeyRule:
    rule_id = str(raw["id"])
    return KeyRule(
        id=rule_id,
        family=str(raw["family"]),
        exact=frozenset(normalize_key(k) for k in _words(raw.get("exact", []), rule_id, "exact")),
        suffixes=tuple(normalize_key(k) for k in _words(raw.get("suffixes", []), rule_id, "suffixes")),
        contains=tuple(normalize_key(k) for k in _words(raw.get("contains", []), rule_id, "contains")),
    )


def _shape_rule(raw: dict[str, Any]) -> ShapeRule:
    rule_id = str(raw["id"])
    try:
        pattern = re.compile(str(raw["pattern"]))
    except re.error as exc:
        raise ValueError(f"{rule_id}: pattern does not compile: {exc}") from None
    check_spec = raw.get("check")
    return ShapeRule(
        id=rule_id,
        family=str(raw["family"]),
        pattern=pattern,
        group="secret" if "secret" in pattern.groupindex else 0,
        keywords=tuple(k.lower() for k in _words(raw.get("keywords", []), rule_id, "keywords")),
        check=build_check(check_spec, rule_id) if check_spec else None,
        description=str(raw.get("description", "")).strip(),
    )


def compile_rules(data: dict[str, Any]) -> RuleSet:
    keys = data["keys"]
    tkv = data["text_key_values"]
    rules = RuleSet(
        version=int(data["version"]),
        marker=str(data["marker"]),
        key_rules=tuple(_key_rule(r) for r in keys["rules"]),
        key_allow=frozenset(normalize_key(k) for k in keys.get("allow", [])),
        text_key_values=TextKeyValueRule(
            id=str(tkv["id"]),
            keywords=tuple(k.lower() for k in _words(tkv["keywords"], tkv["id"], "keywords")),
        ),
        shapes=tuple(_shape_rule(r) for r in data["shapes"]),
    )
    ids = rules.rule_ids
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate scrubbing rule ids: {', '.join(duplicates)}")
    if "{family}" not in rules.marker:
        raise ValueError("the marker must contain {family}")
    return rules


def load_rules(path: Path | None = None) -> RuleSet:
    """Compile the rules file (the contract's ``scrubbing.yaml`` by default)."""
    source = path or DEFAULT_RULES_PATH
    with source.open(encoding="utf-8") as fh:
        data = parse_yaml(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{source}: not a scrubbing rules document")
    try:
        return compile_rules(data)
    except KeyError as exc:
        raise ValueError(f"{source}: missing field {exc}") from None
