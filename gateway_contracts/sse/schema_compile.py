"""The per-event JSON Schemas of ``contracts/sse-grammar.yaml``, translated into Python predicates at load time.

jsonschema takes tens to hundreds of microseconds per event, where reading the event's JSON takes a few, and a
stream has thousands of events. So each event's schema is translated, once per process, into the source of one
Python function that decides exactly what jsonschema decides (2020-12: ``1.0`` is an integer, ``true`` is not),
with every value fetched once and no call per keyword. The translation knows no event and no field: it covers
the keywords of ``schema_terms.SUPPORTED``, and a schema using any other is refused when the grammar loads,
never passed silently.
jsonschema still has the last word on every event the predicate rejects, and explains it
(``gateway_contracts.sse.schemas``); ``tests/sse/test_schemas.py`` holds the two to the same verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway_contracts.sse.schema_terms import (
    ANNOTATIONS,
    COMPARE,
    FAMILIES,
    FAMILY_GUARD,
    MISSING,
    SIZE,
    Facts,
    Predicate,
    SchemaCompileError,
    Terms,
    all_of,
    any_of,
)

__all__ = ["MISSING", "Predicate", "SchemaCompileError", "compile_schemas", "translate"]


def compile_schemas(schemas: Mapping[str, Mapping[str, Any]], where: str) -> dict[str, Predicate]:
    """One predicate per event schema (each a document with its ``$defs``); ``where`` names them in errors."""
    out: dict[str, Predicate] = {}
    for event, schema in schemas.items():
        source, namespace = translate(schema, f"{where}.{event}")
        code = compile(source, f"<schema {where}.{event}>", "exec")
        exec(code, namespace)  # the source is ours, generated from the contract's schema just above
        out[event] = namespace["check"]
    return out


def translate(schema: Mapping[str, Any], where: str) -> tuple[str, dict[str, Any]]:
    """The source of ``def check(v)`` for ``schema``, and the namespace it runs in."""
    writer = _Writer(schema.get("$defs") or {}, where)
    body: list[str] = []
    writer.stmts(schema, "v", body, 1, Facts())
    source = "\n".join(["def check(v):", *body, "    return True", *writer.helpers])
    return source + "\n", {"M": MISSING, **writer.constants}


class _Writer(Terms):
    """Schemas as Python statements: each ``return False`` where the instance fails."""

    def stmts(
        self, s: Any, x: str, out: list[str], ind: int, facts: Facts, refs: tuple[str, ...] = ()
    ) -> None:
        pad = "    " * ind
        if s is True:
            return
        if s is False:
            out.append(f"{pad}return False")
            return
        own, conjuncts = self.parts(s, refs)
        tests: list[str] = []  # what this instance must pass, in one `if`
        types = self.declared_types(own)
        if types is not None:
            tests.append(self.type_test(x, types))
            known = frozenset(types) if facts.types is None else facts.types & frozenset(types)
            facts = facts._replace(types=known, fetched=facts.fetched if "object" in known else None)
        if "const" in own:
            tests.append(self.equals(x, own["const"]))
        if "enum" in own:
            tests.append(self.one_of_values(x, list(own["enum"])))
        done: set[str] = set()
        for family in ("number", "string"):
            family_types, keywords = FAMILIES[family]
            if facts.types is not None and facts.types <= family_types and any(k in own for k in keywords):
                tests.append(self.family_expr(family, own, x, facts, refs))
                done.add(family)
        if tests:
            out.append(f"{pad}if not {all_of(tests)}: return False")
        if facts.types == frozenset({"object"}) and facts.fetched is None:
            # A known object: fetch every property the schema reads once, here, for all the checks below.
            facts = facts._replace(fetched=self.fetch(self.keys(s, refs), x, out, ind, {}))
        for family, (family_types, keywords) in FAMILIES.items():
            present = [k for k in keywords if k in own]
            if family in done or not present or (facts.types is not None and not facts.types & family_types):
                continue
            if facts.types is not None and facts.types <= family_types:
                facts = self.family(family, own, x, out, ind, facts, refs)
                continue
            # Only an instance of the family's type is constrained; "is not None" says it when null is the other.
            only_null_else = facts.types is not None and facts.types - family_types == {"null"}
            guard = f"{x} is not None" if only_null_else else FAMILY_GUARD[family].format(x=x)
            out.append(f"{pad}if {guard}:")
            start = len(out)
            self.family(family, own, x, out, ind + 1, Facts(facts.types and facts.types & family_types), refs)
            if len(out) == start:
                out.pop()
        at = 0
        while at < len(conjuncts):
            cases = self.switch(conjuncts, at, facts)
            if len(cases) > 1:
                # if/then members on one property's distinct values: at most one applies, so one if/elif.
                for n, (member, member_refs) in enumerate(cases):
                    keyword = "if" if n == 0 else "elif"
                    out.append(f"{pad}{keyword} {self.expr(member['if'], x, facts, member_refs)}:")
                    self.block(member["then"], x, out, ind + 1, facts, member_refs)
                at += len(cases)
                continue
            member, member_refs = conjuncts[at]
            self.stmts(member, x, out, ind, facts, member_refs)
            at += 1
        if "anyOf" in own:
            out.append(
                f"{pad}if not {any_of([self.expr(m, x, facts, refs) for m in own['anyOf']])}: return False"
            )
        if "oneOf" in own:
            count = " + ".join(f"({self.expr(m, x, facts, refs)})" for m in own["oneOf"])
            out.append(f"{pad}if {count} != 1: return False")
        if "not" in own:
            out.append(f"{pad}if {self.expr(own['not'], x, facts, refs)}: return False")
        if "if" in own and ("then" in own or "else" in own):
            cond = self.expr(own["if"], x, facts, refs)
            then, otherwise = own.get("then", True), own.get("else", True)
            if then is True:
                out.append(f"{pad}if not {cond}:")
                self.block(otherwise, x, out, ind + 1, facts, refs)
            else:
                out.append(f"{pad}if {cond}:")
                self.block(then, x, out, ind + 1, facts, refs)
                if otherwise is not True:
                    out.append(f"{pad}else:")
                    self.block(otherwise, x, out, ind + 1, facts, refs)

    def switch(
        self, conjuncts: list[tuple[Any, tuple[str, ...]]], at: int, facts: Facts
    ) -> list[tuple[Any, tuple[str, ...]]]:
        """The run of conjuncts from ``at`` shaped ``{if: {properties: {K: {const: C}}}, then: …}`` with one K,
        present, and distinct string Cs (only one of them can apply), else at most the first."""
        cases: list[tuple[Any, tuple[str, ...]]] = []
        key: str | None = None
        values: set[str] = set()
        for member, member_refs in conjuncts[at:]:
            if not isinstance(member, dict) or set(member) - ANNOTATIONS != {"if", "then"}:
                break
            cond = member["if"]
            if not isinstance(cond, dict) or set(cond) - {"properties", "required"}:
                break
            props = cond.get("properties")
            if not isinstance(props, dict) or len(props) != 1:
                break
            [(k, sub)] = props.items()
            const = sub.get("const") if isinstance(sub, dict) and set(sub) == {"const"} else None
            known = k in facts.present or cond.get("required") == [k]
            if not isinstance(const, str) or const in values or (key is not None and k != key) or not known:
                break
            key = k
            values.add(const)
            cases.append((member, member_refs))
        return cases

    def fetch(
        self, keys: list[str], x: str, out: list[str], ind: int, fetched: dict[str, str]
    ) -> dict[str, str]:
        """``fetched`` and a variable for each of ``keys`` not in it yet, each fetched from ``x`` (or M)."""
        fetched = dict(fetched)
        for key in keys:
            if key not in fetched:
                fetched[key] = name = self.fresh()
                out.append(f"{'    ' * ind}{name} = {x}.get({key!r}, M)")
        return fetched

    def block(self, s: Any, x: str, out: list[str], ind: int, facts: Facts, refs: tuple[str, ...]) -> None:
        """Statements for a branch: properties the branch reads that were not fetched yet are fetched in it."""
        if facts.fetched is not None and isinstance(s, dict):
            facts = facts._replace(fetched=self.fetch(self.keys(s, refs), x, out, ind, facts.fetched))
        start = len(out)
        self.stmts(s, x, out, ind, facts, refs)
        if len(out) == start:
            out.append(f"{'    ' * ind}pass")

    def family(
        self,
        family: str,
        s: dict[str, Any],
        x: str,
        out: list[str],
        ind: int,
        facts: Facts,
        refs: tuple[str, ...],
    ) -> Facts:
        """The keywords of one family, for an instance known to be of the family's type."""
        pad = "    " * ind
        if family == "number":
            for k, op in COMPARE.items():
                if k in s:
                    out.append(f"{pad}if not ({x} {op} {s[k]!r}): return False")
            return facts
        if family in ("string", "array"):
            for k in FAMILIES[family][1]:
                if k in s and k in SIZE:
                    out.append(f"{pad}if not (len({x}) {SIZE[k]} {s[k]!r}): return False")
            if family == "array" and "items" in s and s["items"] is not True:
                item = self.fresh("_i")
                out.append(f"{pad}for {item} in {x}:")
                self.block(s["items"], item, out, ind + 1, Facts(), refs)
            return facts
        fetched = facts.fetched
        if fetched is None:
            fetched = self.fetch([*s.get("required", []), *s.get("properties", {})], x, out, ind, {})
        required = frozenset(s.get("required", []))
        properties = s.get("properties") or {}
        # A property whose own schema rejects M needs no presence test of its own.
        missing = [
            f"{fetched[k]} is M"
            for k in s.get("required", [])
            if k not in facts.present and not self.rejects_missing(properties.get(k))
        ]
        if missing:
            out.append(f"{pad}if {' or '.join(missing)}: return False")
        present = facts.present | required
        for key, sub in properties.items():
            if sub is True:
                continue
            if key in present:
                self.stmts(sub, fetched[key], out, ind, Facts(), refs)
            else:
                out.append(f"{pad}if {fetched[key]} is not M:")
                self.block(sub, fetched[key], out, ind + 1, Facts(), refs)
        return facts._replace(present=present)

    # -- expressions: true where the instance passes (for if, anyOf, oneOf, not) -----------------------------
