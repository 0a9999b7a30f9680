"""The ``X-Upstream-Script`` directives (``reference_server/upstream/scripted/directives.py``): every key
parses, a bad one is a ``DirectiveError`` naming the key, from both adapter calls."""

from __future__ import annotations

import pytest

from reference_server.upstream.scripted import DirectiveError, Directives, ScriptedAdapter, parse_directives
from tests.upstream.scripted.support import TOOLS, collect, make_request


def test_directive_header_parses_every_key() -> None:
    """Every documented key parses; spaces around items are ignored and values are percent-decoded."""
    parsed = parse_directives(
        " text_tokens=5; chunk=2;latency_ms=1; first_byte_ms=2; error=503; drop_after=1;"
        " stop_sequence=%3B%20END; finish=refusal; tool=noop; text_before_tool=1; seed=7;"
    )
    assert parsed == Directives(
        text_tokens=5,
        chunk=2,
        latency_ms=1,
        first_byte_ms=2,
        error=503,
        drop_after=1,
        stop_sequence="; END",
        finish="refusal",
        tool="noop",
        text_before_tool=True,
        seed=7,
    )
    assert parse_directives(None) == parse_directives("") == Directives()


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("colour=blue", "colour"),
        ("text_tokens=many", "text_tokens"),
        ("text_tokens=-1", "text_tokens"),
        ("chunk=0", "chunk"),
        ("error=200", "error"),
        ("error=600", "error"),
        ("finish=banana", "finish"),
        ("text_before_tool=yes", "text_before_tool"),
        ("seed", "seed"),
        ("seed=1; seed=2", "seed"),
        ("stop_sequence=", "stop_sequence"),
    ],
)
def test_bad_directive_is_a_value_error_naming_the_key(value: str, key: str) -> None:
    """Unknown keys and bad values raise a ValueError that names the offending key."""
    with pytest.raises(ValueError, match=key) as caught:
        parse_directives(value)
    assert isinstance(caught.value, DirectiveError) and caught.value.key == key


async def test_bad_directive_surfaces_from_both_adapter_calls() -> None:
    """The adapter raises the DirectiveError from chat() and from the first step of stream_chat()."""
    adapter = ScriptedAdapter()
    with pytest.raises(DirectiveError, match="finish"):
        await adapter.chat(make_request("finish=sideways"))
    with pytest.raises(DirectiveError, match="tool"):
        await collect(adapter, make_request("tool=missing", tools=TOOLS))
