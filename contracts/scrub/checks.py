"""Validators a shape rule can name in ``contracts/scrubbing.yaml`` (``check: {name: ..., ...}``).

A regex alone cannot tell a Basic credential from the phrase "basic information", or a random API key from a
long CamelCase identifier; these checks run on a candidate match and decide. Each entry of :data:`CHECKS` is a
factory taking the rule's parameters and returning the predicate.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

Check = Callable[[str], bool]

_DIGITS = re.compile(r"[0-9]")


def basic_credentials() -> Check:
    """True when the candidate is base64 of printable ``user:password`` text."""

    def check(candidate: str) -> bool:
        padded = candidate + "=" * (-len(candidate) % 4)
        try:
            decoded = base64.b64decode(padded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        return ":" in decoded and decoded.isprintable()

    return check


def shannon_bits_per_char(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def decodes_to_prose(candidate: str) -> bool:
    """True when the token is base64 (or base64url) of printable text with spaces: an encoded sentence, not a
    key. (An encoded password has no spaces and stays a candidate.)"""
    padded = candidate + "=" * (-len(candidate) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            text = decode(padded).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if " " in text and text.isprintable():
            return True
    return False


def high_entropy(
    *, min_bits_per_char: float = 4.2, min_digits: int = 2, allow_prefixes: Sequence[str] = ()
) -> Check:
    """True for a token that looks randomly generated: upper case, lower case and digits all present, at least
    ``min_digits`` digits, Shannon entropy of at least ``min_bits_per_char``, no known id prefix, and not
    base64 of prose.

    Requiring all three character classes is what keeps hex (sha256 digests, UUIDs, trace ids: no upper case
    letters next to lower case ones) and lower-case slugs out, whatever their length. What it cannot keep out
    is a public value that is random by construction (a base64url digest, a content id): the benchmark counts
    that cost.
    """
    prefixes = tuple(allow_prefixes)

    def check(candidate: str) -> bool:
        # Cheapest tests first: this runs on every long token of every log line.
        if candidate.lower() == candidate or candidate.upper() == candidate or candidate.startswith(prefixes):
            return False
        if len(_DIGITS.findall(candidate)) < min_digits:
            return False
        return shannon_bits_per_char(candidate) >= min_bits_per_char and not decodes_to_prose(candidate)

    return check


CHECKS: dict[str, Callable[..., Check]] = {
    "basic-credentials": basic_credentials,
    "high-entropy": high_entropy,
}


def build_check(spec: dict[str, Any], rule_id: str) -> Check:
    params = dict(spec)
    name = params.pop("name", None)
    if name not in CHECKS:
        raise ValueError(f"{rule_id}: unknown check {name!r}; known checks: {', '.join(sorted(CHECKS))}")
    try:
        return CHECKS[name](**params)
    except TypeError as exc:
        raise ValueError(f"{rule_id}: bad parameters for check {name!r}: {exc}") from None
