"""The per-event JSON Schemas of ``contracts/sse-grammar.yaml``, translated into Python predicates at load time.

jsonschema takes tens to hundreds of microseconds per event, where reading the event's JSON takes a few, and a
stream has thousands of events. So each event's schema is translated, once per process, into the source of one
Python function that decides exactly what jsonschema decides (2020-12: ``1.0`` is an integer, ``true`` is not),
with every value fetched once and no call per keyword. The translation knows no event and no field: it covers
the keywords below, and a schema using any other is refused when the grammar loads, never passed silently.
jsonschema still has the last word on every event the predicate rejects, and explains it
(``gateway_contracts.sse.schemas``); ``tests/sse/test_schemas.py`` holds the two to the same verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Any], bool]

MISSING = object()
"""What a fetched property holds when the object lacks it (``M`` in the generated code)."""

_TYPES = {
    "null": "{x} is None",
    "boolean": "type({x}) is bool",
    "string": "type({x}) is str",
    "object": "type({x}) is dict",
    "array": "type({x}) is list",
    "number": "(type({x}) is int or type({x}) is float)",
    # The common int first; a float with no fractional part is an integer too in 2020-12.
    "integer": "(type({x}) is int or (type({x}) is float and {x}.is_integer()))",
}
# Keywords that constrain instances of some types only, and are vacuous on the others.
_FAMILIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "number": (
        frozenset({"integer", "number"}),
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
    ),
    "string": (frozenset({"string"}), ("minLength", "maxLength")),
    "array": (frozenset({"array"}), ("items", "minItems", "maxItems")),
    "object": (frozenset({"object"}), ("required", "properties")),
}
_FAMILY_GUARD = {family: _TYPES[family] for family in _FAMILIES}
_COMPARE = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
_SIZE = {"minLength": ">=", "maxLength": "<=", "minItems": ">=", "maxItems": "<="}
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref")
_ANNOTATIONS = frozenset(
    {"$schema", "$defs", "$comment", "title", "description", "default", "examples", "deprecated"}
)
SUPPORTED = frozenset(
    {"type", "const", "enum", *_COMBINATORS, *(k for _, kws in _FAMILIES.values() for k in kws)}
)


class SchemaCompileError(ValueError):
    """A schema this translation cannot decide exactly (an unsupported keyword, a recursive ``$ref``, …)."""


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
    writer.stmts(schema, "v", body, 1, _Facts())
    source = "\n".join(["def check(v):", *body, "    return True", *writer.helpers])
    return source + "\n", {"M": MISSING, **writer.constants}


class _Facts:
    """What is known about one instance at a point of the generated code: its possible JSON types, and (for an
    object) the variables its properties were fetched into and which of them are known to be present."""

    __slots__ = ("fetched", "present", "types")

    def __init__(
        self,
        types: frozenset[str] | None = None,
        fetched: dict[str, str] | None = None,
        present: frozenset[str] = frozenset(),
    ) -> None:
        self.types = types
        self.fetched = fetched
        self.present = present

    def with_present(self, keys: frozenset[str]) -> _Facts:
        return _Facts(self.types, self.fetched, self.present | keys)


class _Writer:
    def __init__(self, defs: Mapping[str, Any], where: str) -> None:
        self.defs = defs
        self.where = where
        self.helpers: list[str] = []
        self.constants: dict[str, Any] = {}
        self._n = 0

    def fresh(self, prefix: str = "_v") -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    # -- shared ------------------------------------------------------------------------------------------------

    def parts(
        self, s: Any, refs: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], list[tuple[Any, tuple[str, ...]]]]:
        """The schema's own keywords (checked), and the schemas that must hold with it: its allOf members and
        its ``$ref`` target (2020-12 applies ``$ref`` beside its siblings), each with the refs followed so far."""
        if not isinstance(s, dict):
            raise SchemaCompileError(f"{self.where}: a schema must be an object or a boolean, got {s!r}")
        unknown = sorted(set(s) - SUPPORTED - _ANNOTATIONS)
        if unknown:
            raise SchemaCompileError(f"{self.where}: schema keyword {unknown[0]!r} is not supported")
        conjuncts: list[tuple[Any, tuple[str, ...]]] = [(m, refs) for m in s.get("allOf", [])]
        if "$ref" in s:
            ref = s["$ref"]
            name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
            if name is None or name == ref or name not in self.defs:
                raise SchemaCompileError(f"{self.where}: $ref {ref!r} is not a #/$defs/ entry")
            if name in refs:
                raise SchemaCompileError(f"{self.where}: $ref {ref!r} is recursive")
            conjuncts.append((self.defs[name], (*refs, name)))
        return s, conjuncts

    def keys(self, s: Any, refs: tuple[str, ...] = ()) -> list[str]:
        """The property names the schema reads on every evaluation (its own, its conjuncts', its `if`'s)."""
        if not isinstance(s, dict):
            return []
        own, conjuncts = self.parts(s, refs)
        out = [*own.get("required", []), *own.get("properties", {})]
        for member, member_refs in conjuncts:
            out += self.keys(member, member_refs)
        if "if" in own:
            out += self.keys(own["if"], refs)
        return list(dict.fromkeys(out))

    def rejects_missing(self, s: Any) -> bool:
        """Whether the schema (or the one its ``$ref`` names) rejects M: it declares a type, a const or an enum,
        none of which M (of no JSON type, equal to nothing) can pass."""
        for _ in range(len(self.defs) + 1):
            if not isinstance(s, dict) or {"type", "const", "enum"} & set(s):
                return isinstance(s, dict)
            ref = s.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
                return False
            s = self.defs.get(ref.removeprefix("#/$defs/"))
        return False

    def equals(self, x: str, value: Any) -> str:
        if value is None:
            return f"{x} is None"
        if isinstance(value, bool):
            return f"{x} is {value}"
        if isinstance(value, str):
            return f"{x} == {value!r}"
        if isinstance(value, int | float):
            return f"({_TYPES['number'].format(x=x)} and {x} == {value!r})"
        raise SchemaCompileError(f"{self.where}: const/enum value {value!r} is not supported (not a scalar)")

    def one_of_values(self, x: str, values: list[Any]) -> str:
        strings = [v for v in values if isinstance(v, str)]
        others = [self.equals(x, v) for v in values if not isinstance(v, str)]
        if len(strings) > 1:
            name = self.fresh("_K")
            self.constants[name] = frozenset(strings)
            others.append(f"(type({x}) is str and {x} in {name})")
        else:
            others += [self.equals(x, v) for v in strings]
        return _any(others)

    def type_test(self, x: str, types: list[str]) -> str:
        try:
            return _any([_TYPES[t].format(x=x) for t in types])
        except KeyError as exc:
            raise SchemaCompileError(f"{self.where}: unknown type {exc.args[0]!r}") from None

    @staticmethod
    def declared_types(s: dict[str, Any]) -> list[str] | None:
        t = s.get("type")
        return None if t is None else [t] if isinstance(t, str) else list(t)

    # -- statements: `return False` where the instance fails -------------------------------------------------

    def stmts(
        self, s: Any, x: str, out: list[str], ind: int, facts: _Facts, refs: tuple[str, ...] = ()
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
            facts = _Facts(known, facts.fetched if "object" in known else None, facts.present)
        if "const" in own:
            tests.append(self.equals(x, own["const"]))
        if "enum" in own:
            tests.append(self.one_of_values(x, list(own["enum"])))
        done: set[str] = set()
        for family in ("number", "string"):
            family_types, keywords = _FAMILIES[family]
            if facts.types is not None and facts.types <= family_types and any(k in own for k in keywords):
                tests.append(self.family_expr(family, own, x, facts))
                done.add(family)
        if tests:
            out.append(f"{pad}if not {_all(tests)}: return False")
        if facts.types == frozenset({"object"}) and facts.fetched is None:
            # A known object: fetch every property the schema reads once, here, for all the checks below.
            fetched: dict[str, str] = {}
            for key in self.keys(s, refs):
                fetched[key] = name = self.fresh()
                out.append(f"{pad}{name} = {x}.get({key!r}, M)")
            facts = _Facts(facts.types, fetched, facts.present)
        for family, (family_types, keywords) in _FAMILIES.items():
            present = [k for k in keywords if k in own]
            if family in done or not present or (facts.types is not None and not facts.types & family_types):
                continue
            if facts.types is not None and facts.types <= family_types:
                facts = self.family(family, own, x, out, ind, facts)
                continue
            # Only an instance of the family's type is constrained; "is not None" says it when null is the other.
            only_null_else = facts.types is not None and facts.types - family_types == {"null"}
            guard = f"{x} is not None" if only_null_else else _FAMILY_GUARD[family].format(x=x)
            out.append(f"{pad}if {guard}:")
            start = len(out)
            self.family(family, own, x, out, ind + 1, _Facts(facts.types and facts.types & family_types))
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
                f"{pad}if not {_any([self.expr(m, x, facts, refs) for m in own['anyOf']])}: return False"
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
        self, conjuncts: list[tuple[Any, tuple[str, ...]]], at: int, facts: _Facts
    ) -> list[tuple[Any, tuple[str, ...]]]:
        """The run of conjuncts from ``at`` shaped ``{if: {properties: {K: {const: C}}}, then: …}`` with one K,
        present, and distinct string Cs (only one of them can apply), else at most the first."""
        cases: list[tuple[Any, tuple[str, ...]]] = []
        key: str | None = None
        values: set[str] = set()
        for member, member_refs in conjuncts[at:]:
            if not isinstance(member, dict) or set(member) - _ANNOTATIONS != {"if", "then"}:
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

    def block(self, s: Any, x: str, out: list[str], ind: int, facts: _Facts, refs: tuple[str, ...]) -> None:
        """Statements for a branch: properties the branch reads that were not fetched yet are fetched in it."""
        if facts.fetched is not None and isinstance(s, dict):
            fetched = dict(facts.fetched)
            for key in self.keys(s, refs):
                if key not in fetched:
                    fetched[key] = name = self.fresh()
                    out.append(f"{'    ' * ind}{name} = {x}.get({key!r}, M)")
            facts = _Facts(facts.types, fetched, facts.present)
        start = len(out)
        self.stmts(s, x, out, ind, facts, refs)
        if len(out) == start:
            out.append(f"{'    ' * ind}pass")

    def family(
        self, family: str, s: dict[str, Any], x: str, out: list[str], ind: int, facts: _Facts
    ) -> _Facts:
        """The keywords of one family, for an instance known to be of the family's type."""
        pad = "    " * ind
        if family == "number":
            for k, op in _COMPARE.items():
                if k in s:
                    out.append(f"{pad}if not ({x} {op} {s[k]!r}): return False")
            return facts
        if family in ("string", "array"):
            for k, op in _SIZE.items():
                if k in s:
                    out.append(f"{pad}if not (len({x}) {op} {s[k]!r}): return False")
            if family == "array" and "items" in s and s["items"] is not True:
                item = self.fresh("_i")
                out.append(f"{pad}for {item} in {x}:")
                self.block(s["items"], item, out, ind + 1, _Facts(), ())
            return facts
        fetched = facts.fetched
        if fetched is None:
            fetched = {}
            for key in [*s.get("required", []), *s.get("properties", {})]:
                if key not in fetched:
                    fetched[key] = name = self.fresh()
                    out.append(f"{pad}{name} = {x}.get({key!r}, M)")
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
                self.stmts(sub, fetched[key], out, ind, _Facts())
            else:
                out.append(f"{pad}if {fetched[key]} is not M:")
                self.block(sub, fetched[key], out, ind + 1, _Facts(), ())
        return _Facts(facts.types, facts.fetched, present)

    # -- expressions: true where the instance passes (for if, anyOf, oneOf, not) -----------------------------

    def expr(self, s: Any, x: str, facts: _Facts, refs: tuple[str, ...]) -> str:
        if s is True or s is False:
            return str(s)
        own, conjuncts = self.parts(s, refs)
        if any(k in own for k in _FAMILIES["array"][1]) or any(k in own for k in ("if", "then", "else")):
            return self.helper(s, x, refs)  # loops and branches read better as statements
        terms: list[str] = []
        types = self.declared_types(own)
        known = facts.types
        if types is not None:
            terms.append(self.type_test(x, types))
            known = frozenset(types) if known is None else known & frozenset(types)
        if "const" in own:
            terms.append(self.equals(x, own["const"]))
        if "enum" in own:
            terms.append(self.one_of_values(x, list(own["enum"])))
        for family in ("number", "string", "object"):
            family_types, keywords = _FAMILIES[family]
            if not any(k in own for k in keywords) or (known is not None and not known & family_types):
                continue
            test = self.family_expr(family, own, x, facts if family == "object" else _Facts())
            if known is None or not known <= family_types:
                test = f"(not {_FAMILY_GUARD[family].format(x=x)} or {test})"
            terms.append(test)
        terms += [self.expr(m, x, facts, r) for m, r in conjuncts]
        if "anyOf" in own:
            terms.append(_any([self.expr(m, x, facts, refs) for m in own["anyOf"]]))
        if "oneOf" in own:
            terms.append(
                "(" + " + ".join(f"({self.expr(m, x, facts, refs)})" for m in own["oneOf"]) + " == 1)"
            )
        if "not" in own:
            terms.append(f"not {self.expr(own['not'], x, facts, refs)}")
        return _all(terms)

    def family_expr(self, family: str, s: dict[str, Any], x: str, facts: _Facts) -> str:
        if family == "number":
            return _all([f"{x} {op} {s[k]!r}" for k, op in _COMPARE.items() if k in s])
        if family == "string":
            return _all([f"len({x}) {op} {s[k]!r}" for k, op in _SIZE.items() if k in s])
        terms: list[str] = []
        fetched = facts.fetched or {}
        required = [k for k in s.get("required", []) if k not in facts.present]
        properties = s.get("properties") or {}
        for key in dict.fromkeys([*required, *properties]):
            sub = properties.get(key, True)
            if key in fetched:
                value = bind = fetched[key]
            else:
                value = self.fresh()
                bind = f"({value} := {x}.get({key!r}, M))"
            test = "True" if sub is True else self.expr(sub, value, _Facts(), ())
            if key in required:
                terms.append(f"{bind} is not M")
                if test != "True":
                    terms.append(test)
            elif test == "True":
                continue
            elif key in facts.present:
                terms.append(test)
            else:
                terms.append(f"({bind} is M or {test})")
        return _all(terms)

    def helper(self, s: Any, x: str, refs: tuple[str, ...]) -> str:
        name = self.fresh("_h")
        body: list[str] = []
        self.stmts(s, "v", body, 1, _Facts(), refs)
        self.helpers += ["", f"def {name}(v):", *body, "    return True"]
        return f"{name}({x})"


def _any(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " or ".join(terms) + ")" if terms else "False"


def _all(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " and ".join(terms) + ")" if terms else "True"
