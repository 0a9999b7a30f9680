"""The streaming grammars, loaded from ``contracts/sse-grammar.yaml`` (the contract) and checked on load.

As in h11's ``_state.py``, each dialect is one explicit table: (state, event) → next state, or a rejection
naming the clause the event breaks; ``Grammar.step`` is the one place a stream's state moves, for both dialects
(``gateway_contracts.sse.machine`` walks every event through it). The loader insists the table is total (every
state has a cell for every event), that every target is a state and every clause exists in
``contracts/clauses/sse.yaml`` under the dialect's prefix, that no clause of the file is left unreferenced, that
every condition and check the file names is one the dialect's code registers (``gateway_contracts.sse.rules``)
and the reverse, that the framing faults are the parser's, and that every event schema is valid JSON Schema
the fast checks can decide. A hole in the contract is a ``GrammarError`` when the grammar is loaded, naming
what is missing; at run time a lookup cannot miss.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args

import yaml

from contracts import CONTRACTS_DIR, parse_yaml
from contracts.clauses import Clause
from gateway_contracts.sse.framing import IssueKind
from gateway_contracts.sse.rules import DIALECTS, Condition, Dialect, Rules, registered
from gateway_contracts.sse.schemas import EventSchemas, SchemaError

GRAMMAR_FILE = CONTRACTS_DIR / "sse-grammar.yaml"
CLAUSE_FILE = CONTRACTS_DIR / "clauses" / "sse.yaml"

END_OF_STREAM = "end_of_stream"
UNKNOWN_EVENT = "unknown"


class GrammarError(Exception):
    """The grammar file is not a usable contract (a missing cell, an unknown state or clause, …)."""


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
    """A transition fired by the validator's own state after an event (h11's state-triggered transitions):
    from ``source`` to ``target`` when the condition registered as ``when`` holds."""

    source: str
    target: str
    when: str
    condition: Condition


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
    schemas: EventSchemas
    """Event → its JSON Schema (2020-12) document, with the compiled checks."""
    sentinels: Mapping[str, str]
    """Event → the literal data that is that event (OpenAI's ``[DONE]``): events read as data, not JSON."""
    clauses: Mapping[str, Clause]
    spec: Mapping[str, Any]
    """The dialect's whole section, for its lists (stop reasons, block kinds, …)."""

    def step(self, state: str, event: str) -> Cell:
        """The cell for ``event`` in ``state``: the next state, or a rejection with its clause (and the state to
        carry on from). Cannot miss for a state and an event of the grammar: the table is total."""
        try:
            return self.table[state][event]
        except KeyError:
            raise GrammarError(
                f"{self.dialect}: no transition for event {event!r} in state {state!r}"
            ) from None

    def triggers(self) -> dict[str, tuple[tuple[str, Condition], ...]]:
        """The state-triggered transitions by source state: ``(target, condition)`` in file order."""
        out: dict[str, tuple[tuple[str, Condition], ...]] = {}
        for t in self.state_triggered:
            out[t.source] = (*out.get(t.source, ()), (t.target, t.condition))
        return out

    def level(self, clause: str) -> str:
        return self.clauses[clause].level

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.spec.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GrammarError(f"{self.dialect}: {key} must be a list of strings")
        return tuple(value)


def load_clauses(path: Path = CLAUSE_FILE) -> list[Clause]:
    """The SSE clauses (``contracts/clauses/sse.yaml``), in file order."""
    doc = _read(path)
    raw = doc.get("clauses") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        raise GrammarError(f"{path.name}: no clauses list")
    fields = ("id", "level", "profile", "title", "statement", "source")
    out: list[Clause] = []
    for item in raw:
        if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
            raise GrammarError(f"{path.name}: a clause needs string {', '.join(fields)}: {item!r}")
        out.append(Clause(**{f: item[f] for f in fields}, file=path.name))
    return out


def clause_ids(dialect: Dialect) -> tuple[str, ...]:
    """Every clause a dialect's validator can report: ``pytest.mark.clause(*clause_ids("anthropic"))``."""
    return tuple(sorted(grammar(dialect).clauses))


@functools.cache
def grammar(dialect: Dialect) -> Grammar:
    """The loaded grammar of one dialect (cached: the contract files are read-only at run time)."""
    return load_grammars()[dialect]


def load_grammars(
    path: Path = GRAMMAR_FILE,
    clause_path: Path = CLAUSE_FILE,
    rules: Mapping[Dialect, Rules] | None = None,
) -> dict[Dialect, Grammar]:
    """Both dialects' grammars, bound to their code's rules (by default, the registered ones)."""
    doc = _read(path)
    dialects = doc.get("dialects") if isinstance(doc, dict) else None
    if not isinstance(dialects, dict) or set(dialects) != set(DIALECTS):
        raise GrammarError(f"{path.name}: `dialects` must define exactly {', '.join(DIALECTS)}")
    clauses = {c.id: c for c in load_clauses(clause_path)}
    rules = registered() if rules is None else rules
    grammars = {name: build_grammar(name, dialects[name], clauses, rules[name]) for name in DIALECTS}
    used = {c for g in grammars.values() for c in g.clauses}
    unused = sorted(set(clauses) - used)
    if unused:
        raise GrammarError(f"{path.name}: clauses no dialect can report: {', '.join(unused)}")
    return grammars


def build_grammar(dialect: Dialect, spec: Any, clauses: Mapping[str, Clause], rules: Rules) -> Grammar:
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

    triggers = _triggers(spec.get("state_triggered"), states, rules, where)
    framing = {
        k: clause(v, f"framing.{k}") for k, v in _str_map(spec.get("framing"), f"{where}: framing").items()
    }
    _same_names(set(framing), set(get_args(IssueKind)), f"{where}: framing", "framing fault of the parser")
    checks = {
        k: clause(v, f"checks.{k}") for k, v in _str_map(spec.get("checks"), f"{where}: checks").items()
    }
    _same_names(set(checks), rules.checks, f"{where}: checks", f"check of the {dialect} validator")
    try:
        schemas = EventSchemas(spec.get("schemas"), f"sse-grammar.yaml: {dialect}.schemas")
    except SchemaError as exc:
        raise GrammarError(str(exc)) from None
    sentinels = _str_map(spec.get("sentinels", {}), f"{where}: sentinels")
    for event in [*schemas, *sentinels]:
        if event not in events or event in (END_OF_STREAM, UNKNOWN_EVENT):
            raise GrammarError(f"{where}: {event!r} in schemas or sentinels is not an event of the table")
    for event in events:
        # Each event read from the stream is either JSON, checked against its schema, or a literal sentinel.
        if event not in (END_OF_STREAM, UNKNOWN_EVENT) and (event in schemas) == (event in sentinels):
            what = "both a schema and a sentinel" if event in schemas else "no schema (and is no sentinel)"
            raise GrammarError(f"{where}: event {event} has {what}")
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
        sentinels=sentinels,
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


def _triggers(raw: Any, states: Mapping[str, str], rules: Rules, where: str) -> tuple[StateTrigger, ...]:
    triggers: list[StateTrigger] = []
    for item in raw or []:
        if not isinstance(item, dict) or item.get("from") not in states or item.get("to") not in states:
            raise GrammarError(f"{where}: state_triggered entry {item!r} needs states `from` and `to`")
        when = item.get("when")
        condition = rules.conditions.get(when) if isinstance(when, str) else None
        if not isinstance(when, str) or condition is None:
            known = ", ".join(sorted(rules.conditions)) or "none"
            raise GrammarError(
                f"{where}: state_triggered condition {when!r} is not a condition of the {rules.dialect} "
                f"validator (known: {known})"
            )
        triggers.append(StateTrigger(item["from"], item["to"], when, condition))
    # Fired until nothing changes (as h11 does): a cycle of triggers could move forever.
    edges = {t.source: {u.target for u in triggers if u.source == t.source} for t in triggers}
    for start in edges:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            state = todo.pop()
            if state == start:
                raise GrammarError(f"{where}: state_triggered transitions from {start} lead back to it")
            if state not in seen:
                seen.add(state)
                todo.extend(edges.get(state, ()))
    return tuple(triggers)


def _same_names(in_file: set[str], in_code: set[str], at: str, what: str) -> None:
    unknown = sorted(in_file - in_code)
    if unknown:
        raise GrammarError(f"{at}: {unknown[0]!r} is not a {what}")
    missing = sorted(in_code - in_file)
    if missing:
        raise GrammarError(f"{at}: no clause for {missing[0]!r} (a {what})")


def _read(path: Path) -> Any:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
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
