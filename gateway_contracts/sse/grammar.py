"""The streaming grammars, loaded from ``contracts/sse-grammar.yaml`` (the contract) and checked on load.

As in h11's ``_state.py``, each dialect is one explicit table: (state, event) → next state, or a rejection
naming the clause the event breaks. The loader insists the table is total (every state has a cell for every
event), that every target is a state and every clause exists in ``contracts/clauses/sse.yaml`` under the
dialect's prefix, and that no clause of the file is left unreferenced. A hole in the contract is a
``GrammarError`` when the grammar is loaded, with the cell named; at run time a lookup cannot miss.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from contracts import CONTRACTS_DIR

Dialect = Literal["anthropic", "openai"]
DIALECTS: tuple[Dialect, ...] = ("anthropic", "openai")

GRAMMAR_FILE = CONTRACTS_DIR / "sse-grammar.yaml"
CLAUSE_FILE = CONTRACTS_DIR / "clauses" / "sse.yaml"

END_OF_STREAM = "end_of_stream"
UNKNOWN_EVENT = "unknown"


class GrammarError(Exception):
    """The grammar file is not a usable contract (a missing cell, an unknown state or clause, …)."""


@dataclass(frozen=True, slots=True)
class SseClause:
    id: str
    level: str
    profile: str
    title: str
    statement: str
    source: str


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of the table. ``clause`` is None for an allowed transition. A rejected event with ``take`` set
    still has its content checked (a block opened while another is open still gets its index checked)."""

    target: str
    clause: str | None = None
    take: bool = False

    @property
    def accepted(self) -> bool:
        return self.clause is None


@dataclass(frozen=True, slots=True)
class StateTrigger:
    """A transition fired by the validator's own state after an event (h11's state-triggered transitions)."""

    source: str
    target: str
    when: str


@dataclass(frozen=True)
class Grammar:
    dialect: Dialect
    title: str
    states: Mapping[str, str]
    """State name → what it means (used in messages: "… after message_stop")."""
    initial: str
    events: tuple[str, ...]
    table: Mapping[str, Mapping[str, Cell]]
    state_triggered: tuple[StateTrigger, ...]
    framing: Mapping[str, str]
    """Framing fault kind (``gateway_contracts.sse.framing.IssueKind``) → clause."""
    checks: Mapping[str, str]
    """Content check name → clause."""
    schemas: Mapping[str, Mapping[str, Any]]
    """Event → a self-contained JSON Schema (2020-12) document for it."""
    clauses: Mapping[str, SseClause]
    spec: Mapping[str, Any]
    """The dialect's whole section, for its lists (stop reasons, block kinds, …)."""

    def step(self, state: str, event: str) -> Cell:
        try:
            return self.table[state][event]
        except KeyError:
            raise GrammarError(
                f"{self.dialect}: no transition for event {event!r} in state {state!r}"
            ) from None

    def level(self, clause: str) -> str:
        return self.clauses[clause].level

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.spec.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GrammarError(f"{self.dialect}: {key} must be a list of strings")
        return tuple(value)


def load_clauses(path: Path = CLAUSE_FILE) -> list[SseClause]:
    """The SSE clauses (``contracts/clauses/sse.yaml``), in file order."""
    doc = _read(path)
    raw = doc.get("clauses") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        raise GrammarError(f"{path.name}: no clauses list")
    fields = ("id", "level", "profile", "title", "statement", "source")
    out: list[SseClause] = []
    for item in raw:
        if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
            raise GrammarError(f"{path.name}: a clause needs string {', '.join(fields)}: {item!r}")
        out.append(SseClause(*(item[f] for f in fields)))
    return out


def clause_ids(dialect: Dialect) -> tuple[str, ...]:
    """Every clause a dialect's validator can report: ``pytest.mark.clause(*clause_ids("anthropic"))``."""
    return tuple(sorted(grammar(dialect).clauses))


@functools.cache
def grammar(dialect: Dialect) -> Grammar:
    """The loaded grammar of one dialect (cached: the contract files are read-only at run time)."""
    return load_grammars()[dialect]


def load_grammars(path: Path = GRAMMAR_FILE, clause_path: Path = CLAUSE_FILE) -> dict[Dialect, Grammar]:
    doc = _read(path)
    dialects = doc.get("dialects") if isinstance(doc, dict) else None
    if not isinstance(dialects, dict) or set(dialects) != set(DIALECTS):
        raise GrammarError(f"{path.name}: `dialects` must define exactly {', '.join(DIALECTS)}")
    clauses = {c.id: c for c in load_clauses(clause_path)}
    grammars = {name: build_grammar(name, dialects[name], clauses) for name in DIALECTS}
    used = {c for g in grammars.values() for c in g.clauses}
    unused = sorted(set(clauses) - used)
    if unused:
        raise GrammarError(f"{path.name}: clauses no dialect can report: {', '.join(unused)}")
    return grammars


def build_grammar(dialect: Dialect, spec: Any, clauses: Mapping[str, SseClause]) -> Grammar:
    where = f"sse-grammar.yaml: {dialect}"
    if not isinstance(spec, dict):
        raise GrammarError(f"{where}: not a mapping")
    states = _str_map(spec.get("states"), f"{where}: states")
    events = tuple(_str_list(spec.get("events"), f"{where}: events"))
    if END_OF_STREAM not in events:
        raise GrammarError(f"{where}: events must include {END_OF_STREAM}")
    initial = spec.get("initial")
    if initial not in states:
        raise GrammarError(f"{where}: initial state {initial!r} is not a state")
    prefix = f"{spec.get('clause_prefix')}-"
    referenced: set[str] = set()

    def clause(value: Any, at: str) -> str:
        # "SSE-" must not swallow "OAI-SSE-": compare the whole prefix before the number.
        if not isinstance(value, str) or value not in clauses or value.rsplit("-", 1)[0] + "-" != prefix:
            raise GrammarError(f"{where}: {at}: {value!r} is not a {prefix}NNN clause of clauses/sse.yaml")
        referenced.add(value)
        return value

    raw_table = spec.get("transitions")
    if not isinstance(raw_table, dict) or set(raw_table) != set(states):
        raise GrammarError(f"{where}: transitions must have a row for each state, and only those")
    table: dict[str, dict[str, Cell]] = {}
    for state in states:
        row = raw_table[state]
        if not isinstance(row, dict):
            raise GrammarError(f"{where}: transitions.{state} is not a mapping")
        missing = [e for e in events if e not in row]
        if missing:
            raise GrammarError(
                f"{where}: no cell for state {state}, event {missing[0]} (the table must be total)"
            )
        extra = sorted(set(row) - set(events))
        if extra:
            raise GrammarError(f"{where}: transitions.{state}: unknown event {extra[0]}")
        table[state] = {e: _cell(row[e], states, f"{state}/{e}", clause, where) for e in events}

    triggers: list[StateTrigger] = []
    for item in spec.get("state_triggered") or []:
        if not isinstance(item, dict) or item.get("from") not in states or item.get("to") not in states:
            raise GrammarError(f"{where}: state_triggered entry {item!r} needs states `from` and `to`")
        triggers.append(StateTrigger(item["from"], item["to"], str(item.get("when"))))

    framing = {
        k: clause(v, f"framing.{k}") for k, v in _str_map(spec.get("framing"), f"{where}: framing").items()
    }
    checks = {
        k: clause(v, f"checks.{k}") for k, v in _str_map(spec.get("checks"), f"{where}: checks").items()
    }
    schemas = _schemas(spec.get("schemas"), where)
    return Grammar(
        dialect=dialect,
        title=str(spec.get("title", dialect)),
        states=states,
        initial=cast(str, initial),
        events=events,
        table=table,
        state_triggered=tuple(triggers),
        framing=framing,
        checks=checks,
        schemas=schemas,
        clauses={c: clauses[c] for c in sorted(referenced)},
        spec=spec,
    )


def _cell(value: Any, states: Mapping[str, str], at: str, clause: Any, where: str) -> Cell:
    if isinstance(value, str):
        if value not in states:
            raise GrammarError(f"{where}: {at}: target {value!r} is not a state")
        return Cell(value)
    if isinstance(value, dict) and "reject" in value:
        target = value.get("then")
        if target not in states:
            raise GrammarError(f"{where}: {at}: a rejection needs `then: <state>`, got {target!r}")
        return Cell(cast(str, target), clause(value["reject"], at), bool(value.get("take", False)))
    raise GrammarError(
        f"{where}: {at}: a cell is a state name or {{reject: CLAUSE, then: STATE}}, got {value!r}"
    )


def _schemas(raw: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise GrammarError(f"{where}: schemas is not a mapping")
    defs = raw.get("$defs", {})
    # Each event's schema becomes a document of its own, carrying the shared $defs so "#/$defs/…" resolves.
    return {
        event: {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs, **schema}
        for event, schema in raw.items()
        if event != "$defs"
    }


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GrammarError(f"{path.name}: {exc}") from None


def _str_map(value: Any, at: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise GrammarError(f"{at}: must map names to strings")
    return dict(value)


def _str_list(value: Any, at: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GrammarError(f"{at}: must be a list of strings")
    return list(value)
