"""The scripted upstream refuses what the real providers' request schemas refuse
(``reference_server/upstream/scripted/provider_rules``), with their statuses and bodies.

The refusal cases are generated from the provider schemas themselves (``provider_rules.anthropic_schema`` and
``openai_schema``): every required field left out, every typed field given the wrong type, every bounded number
pushed past its bound, an unknown field, an unknown role. Each gets the provider's status and envelope, and none
of the answers repeats the secret-shaped values the requests carry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from reference_server.upstream.scripted.provider_rules import anthropic_schema, openai_schema
from tests.upstream.scripted.provider_bodies import (
    BASES,
    CHAT,
    MESSAGES,
    SECRET,
    anthropic_body,
    assert_refused,
    openai_body,
    post,
)

SCHEMAS = {MESSAGES: anthropic_schema(), CHAT: openai_schema()}


def _kinds(prop: dict[str, Any]) -> list[str]:
    kind = prop.get("type")
    return [] if kind is None else (kind if isinstance(kind, list) else [kind])


def _wrong_value(prop: dict[str, Any]) -> Any:
    """A value of a type the property does not take: the secret when strings are wrong, else a number."""
    kinds = _kinds(prop)
    if "string" not in kinds:
        return SECRET
    return 12345 if not {"integer", "number"} & set(kinds) else {"not": "this"}


def wrong_type_cases() -> Iterator[Any]:
    for path, schema in SCHEMAS.items():
        for name, prop in schema["properties"].items():
            if _kinds(prop) or "enum" in prop:
                yield pytest.param(path, name, _wrong_value(prop), id=f"{path}-{name}-wrong-type")


def bound_cases() -> Iterator[Any]:
    for path, schema in SCHEMAS.items():
        for name, prop in schema["properties"].items():
            for bound, step in (("minimum", -1), ("maximum", 1)):
                if bound in prop:
                    value = prop[bound] + step if "integer" in _kinds(prop) else prop[bound] + step * 0.5
                    yield pytest.param(path, name, value, bound, id=f"{path}-{name}-{bound}")


def required_cases() -> Iterator[Any]:
    for path, schema in SCHEMAS.items():
        for name in schema["required"]:
            yield pytest.param(path, name, id=f"{path}-{name}-missing")


def test_the_cases_cover_every_rule_kind() -> None:
    """The generation is not vacuous: each dialect has required, typed and bounded fields."""
    for path in SCHEMAS:
        assert sum(1 for c in wrong_type_cases() if c.values[0] == path) >= 10
        assert sum(1 for c in bound_cases() if c.values[0] == path) >= 3
        assert sum(1 for c in required_cases() if c.values[0] == path) >= 2


@pytest.mark.parametrize(("path", "name", "value"), list(wrong_type_cases()))
async def test_a_wrong_type_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, name: str, value: Any
) -> None:
    status, body, text = await post(http, upstream + path, BASES[path](**{name: value}))
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"].startswith(f"{name}: Input should be")
    else:
        assert body["error"]["param"] == name
        assert body["error"]["code"] in ("invalid_type", "invalid_value")


@pytest.mark.parametrize(("path", "name", "value", "bound"), list(bound_cases()))
async def test_a_value_out_of_range_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, name: str, value: Any, bound: str
) -> None:
    status, body, text = await post(http, upstream + path, BASES[path](**{name: value}))
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        side = "greater" if bound == "minimum" else "less"
        assert body["error"]["message"].startswith(f"{name}: Input should be {side} than or equal to")
    else:
        side = "below_min" if bound == "minimum" else "above_max"
        assert body["error"]["param"] == name and body["error"]["code"].endswith(f"_{side}_value")


@pytest.mark.parametrize(("path", "name"), list(required_cases()))
async def test_a_missing_field_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, name: str
) -> None:
    request = BASES[path]()
    request.pop(name, None)
    status, body, text = await post(http, upstream + path, request)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"] == f"{name}: Field required"
    else:
        assert (body["error"]["param"], body["error"]["code"]) == (name, "missing_required_parameter")


@pytest.mark.parametrize("path", [MESSAGES, CHAT])
@pytest.mark.parametrize("where", ["top", "nested"])
async def test_an_unknown_field_is_refused_without_its_name(
    upstream: str, http: aiohttp.ClientSession, path: str, where: str
) -> None:
    if where == "top":
        request = BASES[path](**{SECRET: 1})
    elif path == MESSAGES:
        request = anthropic_body(metadata={"user_id": "u", SECRET: "x"})
    else:
        request = openai_body(stream=True, stream_options={"include_usage": True, SECRET: True})
    status, body, text = await post(http, upstream + path, request)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert "Extra inputs are not permitted" in body["error"]["message"]
    elif where == "top":
        assert body["error"]["param"] is None and "Unrecognized request argument" in body["error"]["message"]
    else:
        assert (body["error"]["param"], body["error"]["code"]) == ("stream_options", "unknown_parameter")


@pytest.mark.parametrize(
    ("path", "role"),
    [(MESSAGES, role) for role in ("system", "tool", "bot", SECRET, 7)]
    + [(CHAT, role) for role in ("bot", "model", SECRET, 7)],
)
async def test_an_unknown_role_is_refused(
    upstream: str, http: aiohttp.ClientSession, path: str, role: Any
) -> None:
    request = BASES[path](messages=[{"role": role, "content": "Hello"}])
    status, body, text = await post(http, upstream + path, request)
    assert_refused(path, status, body, text)
    if path == MESSAGES:
        assert body["error"]["message"] == "messages.0.role: Input should be 'user' or 'assistant'"
    else:
        assert (body["error"]["param"], body["error"]["code"]) == ("messages[0].role", "invalid_value")
