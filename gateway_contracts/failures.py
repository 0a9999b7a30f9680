"""Typed failures: each names the one clause whose check failed, as schemathesis' ``core/failures.py`` gives each
failure its check, title and evidence.

A conformance test may cover several clauses (one request, several promises), but a fault breaks one of them,
and a reviewer reading the report must land on that one. So a check raises:

- :class:`ClauseFailure`: *this* clause's promise is broken. The plugin records the failure under that clause
  alone, whatever the test's markers say;
- :class:`Blocked`: a precondition the test cannot do without is missing, and that precondition is itself a
  clause (no parseable metrics exposition at all is MET-002's failure, not MET-004's). The plugin records the
  failure once under the precondition's clause, and the test's own clauses as *blocked by* it, not failed.

A plain ``AssertionError`` in a test is its first clause marker's: the test's primary promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ClauseFailure(AssertionError):
    def __init__(
        self, clause: str, title: str, detail: str = "", evidence: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{clause}: {title}" + (f": {detail}" if detail else ""))
        self.clause = clause
        self.title = title
        self.detail = detail
        self.evidence = evidence or {}


class Blocked(AssertionError):
    def __init__(self, by: str, title: str, detail: str = "") -> None:
        super().__init__(f"blocked by {by}: {title}" + (f": {detail}" if detail else ""))
        self.by = by
        self.title = title
        self.detail = detail


@contextmanager
def checking(clause: str, title: str | None = None) -> Iterator[None]:
    """Attribute an ``assert`` inside the block to ``clause`` (a secondary promise of a multi-clause test)."""
    try:
        yield
    except (ClauseFailure, Blocked):
        raise
    except AssertionError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "assertion failed"
        raise ClauseFailure(clause, title or message, "" if title is None else message) from None
