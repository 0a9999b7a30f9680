"""What only code can state about a dialect, each under the one name ``contracts/sse-grammar.yaml`` gives it.

The grammar file holds the state table and the event schemas; two kinds of rule need code, and the file names
them:

* a *condition* decides a state-triggered transition (``state_triggered: [{from, to, when: NAME}]``), as h11's
  ``_fire_state_triggered_transitions`` does for keep-alive: ``@RULES[dialect].condition(NAME)`` on a function of
  the validator;
* a *check* is a content rule the table cannot express (a block index gap, a stop reason off the list, …),
  reported under the clause the file's ``checks:`` maps its name to: ``RULES[dialect].check(NAME)`` as a class
  attribute of the validator reads that clause.

The loader (``gateway_contracts.sse.grammar``) holds the two sides to each other: a name the file uses that no
code registers, or a registered check the file gives no clause, is a load error naming it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

if TYPE_CHECKING:
    from gateway_contracts.sse.machine import StreamValidator

Dialect = Literal["anthropic", "openai"]
DIALECTS: tuple[Dialect, ...] = ("anthropic", "openai")

Condition = Callable[[Any], bool]
"""A predicate over the dialect's validator (its own state: which choices finished, …)."""
C = TypeVar("C", bound=Condition)

# The modules that register each dialect's rules (imported on demand, so that the loader sees them all).
_MODULES: dict[Dialect, str] = {
    "anthropic": "gateway_contracts.sse.anthropic_stream",
    "openai": "gateway_contracts.sse.openai_stream",
}


class Check:
    """A check's clause, read as an attribute of the validator: ``self.c_stop_reason`` → ``"SSE-023"``."""

    __slots__ = ("name", "rules")

    def __init__(self, rules: Rules, name: str) -> None:
        self.rules = rules
        self.name = name

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.rules.claim("check", self.name, f"{owner.__module__}.{owner.__qualname__}.{attribute}")
        self.rules.checks.add(self.name)

    @overload
    def __get__(self, obj: None, owner: type) -> Check: ...
    @overload
    def __get__(self, obj: StreamValidator, owner: type) -> str: ...
    def __get__(self, obj: StreamValidator | None, owner: type) -> Check | str:
        if obj is None:
            return self
        return obj.grammar.checks[self.name]


class Rules:
    """One dialect's registry of named conditions and checks."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.conditions: dict[str, Condition] = {}
        self.checks: set[str] = set()
        self._owners: dict[tuple[str, str], str] = {}

    def claim(self, kind: str, name: str, owner: str) -> None:
        """Each name is registered in one place (registering it again from the same place, as a re-imported
        module does, is that place still)."""
        known = self._owners.setdefault((kind, name), owner)
        if known != owner:
            raise ValueError(f"{self.dialect}: {kind} {name!r} registered twice ({known}, {owner})")

    def condition(self, name: str) -> Callable[[C], C]:
        def register(fn: C) -> C:
            self.claim("condition", name, f"{fn.__module__}.{fn.__qualname__}")
            self.conditions[name] = fn
            return fn

        return register

    def check(self, name: str) -> Check:
        """To be bound to a class attribute of the dialect's validator (where it registers)."""
        return Check(self, name)


RULES: Mapping[Dialect, Rules] = {dialect: Rules(dialect) for dialect in DIALECTS}


def registered() -> Mapping[Dialect, Rules]:
    """Every dialect's rules, with the modules that register them imported."""
    for module in _MODULES.values():
        importlib.import_module(module)
    return RULES
