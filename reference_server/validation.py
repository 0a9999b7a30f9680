"""Request validation against the contract's own schemas (``contracts/openapi.yaml``).

The gateway and the suite read the same schema, so "schema-valid is accepted, schema-invalid is rejected" holds by
construction. Error messages name the field and the rule, never the offending value: a client that put a secret in
the wrong field must not get it echoed back.

Two validators, one verdict. ``jsonschema`` (pure Python) is the reference: its errors make the messages. It costs
~0.2 ms for an ordinary request, a sixth of the gateway's CPU per call, so every body is first offered to
``jsonschema_rs`` (compiled, ~1 µs; already installed as a dependency of schemathesis). Its "valid" is taken; its
"invalid" (or any failure to judge, e.g. a lone surrogate it cannot convert) sends the body to ``jsonschema``,
whose verdict stands. So a body ``jsonschema_rs`` accepts wrongly is the only way the two could differ; the
contract's request schemas use only keywords both implement to the letter of Draft 2020-12, and where they do
differ (``pattern``: Python's ``$`` also matches before a trailing newline, Rust's does not) ``jsonschema_rs`` is
the stricter one, so the body falls through to ``jsonschema`` and the verdict is unchanged.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from contracts import inlined_component_schema
from reference_server.errors import GatewayError, invalid_request
from reference_server.mutants import mutated


@functools.cache
def _validator(component: str) -> Draft202012Validator:
    return Draft202012Validator(inlined_component_schema(component))


@functools.cache
def _fast_validator(component: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(inlined_component_schema(component))


def _surely_valid(component: str, body: dict[str, Any]) -> bool:
    """True only when the compiled validator accepts the body; False sends it to the reference validator."""
    try:
        return bool(_fast_validator(component).is_valid(body))
    except Exception:  # a value it cannot convert: let the reference validator judge
        return False


def _where(err: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    return path.lstrip(".") or "body"


def _rule(err: ValidationError) -> str:
    # jsonschema types these as "maybe unset"; on a reported error they are always set.
    v: Any = err.validator
    arg: Any = err.validator_value
    schema: Any = err.schema
    if v == "type":
        return f"must be of type {arg if isinstance(arg, str) else ' or '.join(arg)}"
    if v == "required":
        missing = [k for k in arg if isinstance(err.instance, dict) and k not in err.instance]
        return f"is missing required field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    if v == "additionalProperties":
        extra = (
            sorted(set(err.instance) - set(schema.get("properties", {})))
            if isinstance(err.instance, dict)
            else []
        )
        # Field names are the client's keys, not values; still cap their length.
        return f"has unknown field(s) {', '.join(k[:40] for k in extra)}"
    if v in ("enum", "const"):
        allowed = arg if v == "enum" else [arg]
        return f"must be one of {', '.join(json.dumps(a) for a in allowed)}"
    if v == "minimum":
        return f"must be >= {arg}"
    if v == "maximum":
        return f"must be <= {arg}"
    if v in ("minItems", "minLength"):
        return f"must have at least {arg} {'item' if v == 'minItems' else 'character'}(s)"
    if v in ("maxItems", "maxLength"):
        return f"must have at most {arg} {'item' if v == 'maxItems' else 'character'}(s)"
    if v == "pattern":
        return f"must match {arg}"
    if v == "oneOf":
        return "does not match any allowed shape"
    return f"violates the '{v}' rule"


def _best(errors: list[ValidationError]) -> ValidationError:
    # The deepest error is the most specific (e.g. messages[0].role rather than "messages does not match").
    return max(errors, key=lambda e: (len(e.absolute_path), e.validator != "oneOf"))


def validate_body(component: str, body: Any) -> dict[str, Any]:
    """Validate a parsed JSON body against a contract component; raise a 400 ``GatewayError`` naming the field."""
    if not isinstance(body, dict):
        raise invalid_request("request body must be a JSON object")
    if _surely_valid(component, body):
        return body
    errors = list(_validator(component).iter_errors(body))
    if errors:
        err = _best(errors)
        got = f" (got {json.dumps(err.instance)})" if mutated("error-echoes-value") else ""
        raise invalid_request(f"{_where(err)}: {_rule(err)}{got}")
    return body


MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a request body may have. Far above any real request (a tool schema a
dozen levels deep is rare), far below what would exhaust the recursion of the parser, the validators or the
encoders that see the body later."""
MAX_INT_DIGITS = 1000
"""Longest integer literal accepted. Python refuses more than 4,300 digits with a ``ValueError``; far fewer
already mean nothing to any field of the contract."""

# A JSON \u escape of a UTF-16 surrogate: the only way a body can carry a lone surrogate, which is no Unicode
# character and cannot be encoded again (RFC 8259 §8.2 leaves its meaning undefined).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def _bad_json(reason: str) -> GatewayError:
    return GatewayError(400, "invalid_request_error", f"request body is not valid JSON: {reason}")


def _non_finite(literal: str) -> Any:
    raise _bad_json("NaN and Infinity are not JSON numbers")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _bad_json("a number is too large to represent")
    return value


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _bad_json(f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(literal)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects deeper than ``limit`` (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(raw: bytes) -> Any:
    """The body as JSON, within limits: at most ``MAX_JSON_DEPTH`` levels of nesting, integers of at most
    ``MAX_INT_DIGITS`` digits, finite numbers only (``NaN``, ``Infinity`` and overflowing literals are not JSON
    numbers), no lone surrogates. Anything else is a 400 whose message names the rule, never the content."""
    if mutated("malformed-json-500"):
        return json.loads(raw)
    try:
        # Strict UTF-8 first: json.loads(bytes) would decode with "surrogatepass" (letting encoded surrogates
        # through) and guess UTF-16 and UTF-32 too; a JSON body over HTTP is UTF-8 (RFC 8259 §8.1).
        text = raw.decode("utf-8").removeprefix("\ufeff")
        value = json.loads(
            text, parse_constant=_non_finite, parse_float=_finite_float, parse_int=_bounded_int
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = getattr(exc, "msg", "not valid UTF-8")
        pos = getattr(exc, "pos", None)
        where = f" at byte {pos}" if pos is not None else ""
        raise _bad_json(f"{msg}{where}") from None
    except RecursionError:
        raise _bad_json(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:  # int() past its own digit limit, in a form _bounded_int did not foresee
        raise _bad_json("a number is too large") from None
    # Only a body with more brackets than the limit can nest deeper than it: counting them is cheap (C).
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _depth_exceeds(value, MAX_JSON_DEPTH):
        raise _bad_json(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(raw) is not None:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _bad_json("a string holds a lone UTF-16 surrogate, which is not Unicode text") from None
    return value
