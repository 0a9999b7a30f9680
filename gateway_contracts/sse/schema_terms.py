"""The expression half of the schema translation (``gateway_contracts.sse.schema_compile``): what the JSON
types, values and keywords are in Python, and schemas as boolean expressions (for ``if``, ``anyOf``, ``oneOf``,
``not``), over the subset of 2020-12 the translation decides exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

Predicate = Callable[[Any], bool]

MISSING = object()
"""What a fetched property holds when the object lacks it (``M`` in the generated code)."""

TYPES = {
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
FAMILIES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "number": (
        frozenset({"integer", "number"}),
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"),
    ),
    "string": (frozenset({"string"}), ("minLength", "maxLength")),
    "array": (frozenset({"array"}), ("items", "minItems", "maxItems")),
    "object": (frozenset({"object"}), ("required", "properties")),
}
FAMILY_GUARD = {family: TYPES[family] for family in FAMILIES}
COMPARE = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
SIZE = {"minLength": ">=", "maxLength": "<=", "minItems": ">=", "maxItems": "<="}
COMBINATORS = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref")
ANNOTATIONS = frozenset(
    {"$schema", "$defs", "$comment", "title", "description", "default", "examples", "deprecated"}
)
SUPPORTED = frozenset(
    {"type", "const", "enum", *COMBINATORS, *(k for _, kws in FAMILIES.values() for k in kws)}
)


class SchemaCompileError(ValueError):
    """A schema this translation cannot decide exactly (an unsupported keyword, a recursive ``$ref``, …)."""


class Facts(NamedTuple):
    """What is known about one instance at a point of the generated code: its possible JSON types, and (for an
    object) the variables its properties were fetched into and which of them are known to be present."""

    types: frozenset[str] | None = None
    fetched: dict[str, str] | None = None
    present: frozenset[str] = frozenset()


class Terms:
    """Schemas as Python expressions; ``stmts`` (the statement half) is the subclass's."""

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
        unknown = sorted(set(s) - SUPPORTED - ANNOTATIONS)
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
            return f"({TYPES['number'].format(x=x)} and {x} == {value!r})"
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
        return any_of(others)

    def type_test(self, x: str, types: list[str]) -> str:
        try:
            return any_of([TYPES[t].format(x=x) for t in types])
        except KeyError as exc:
            raise SchemaCompileError(f"{self.where}: unknown type {exc.args[0]!r}") from None

    @staticmethod
    def declared_types(s: dict[str, Any]) -> list[str] | None:
        t = s.get("type")
        return None if t is None else [t] if isinstance(t, str) else list(t)

    # -- statements: `return False` where the instance fails -------------------------------------------------

    def stmts(
        self, s: Any, x: str, out: list[str], ind: int, facts: Facts, refs: tuple[str, ...] = ()
    ) -> None:
        raise NotImplementedError

    def expr(self, s: Any, x: str, facts: Facts, refs: tuple[str, ...]) -> str:
        if s is True or s is False:
            return str(s)
        own, conjuncts = self.parts(s, refs)
        if any(k in own for k in FAMILIES["array"][1]) or any(k in own for k in ("if", "then", "else")):
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
            family_types, keywords = FAMILIES[family]
            if not any(k in own for k in keywords) or (known is not None and not known & family_types):
                continue
            test = self.family_expr(family, own, x, facts if family == "object" else Facts(), refs)
            if known is None or not known <= family_types:
                test = f"(not {FAMILY_GUARD[family].format(x=x)} or {test})"
            terms.append(test)
        terms += [self.expr(m, x, facts, r) for m, r in conjuncts]
        if "anyOf" in own:
            terms.append(any_of([self.expr(m, x, facts, refs) for m in own["anyOf"]]))
        if "oneOf" in own:
            terms.append(
                "(" + " + ".join(f"({self.expr(m, x, facts, refs)})" for m in own["oneOf"]) + " == 1)"
            )
        if "not" in own:
            terms.append(f"not {self.expr(own['not'], x, facts, refs)}")
        return all_of(terms)

    def family_expr(self, family: str, s: dict[str, Any], x: str, facts: Facts, refs: tuple[str, ...]) -> str:
        if family == "number":
            return all_of([f"{x} {op} {s[k]!r}" for k, op in COMPARE.items() if k in s])
        if family == "string":
            return all_of([f"len({x}) {SIZE[k]} {s[k]!r}" for k in FAMILIES["string"][1] if k in s])
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
            test = "True" if sub is True else self.expr(sub, value, Facts(), refs)
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
        return all_of(terms)

    def helper(self, s: Any, x: str, refs: tuple[str, ...]) -> str:
        name = self.fresh("_h")
        body: list[str] = []
        self.stmts(s, "v", body, 1, Facts(), refs)
        self.helpers += ["", f"def {name}(v):", *body, "    return True"]
        return f"{name}({x})"


def any_of(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " or ".join(terms) + ")" if terms else "False"


def all_of(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " and ".join(terms) + ")" if terms else "True"
