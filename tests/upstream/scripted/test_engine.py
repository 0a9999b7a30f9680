"""The engine (``reference_server/upstream/scripted/engine.py``) through the in-process adapter: the default
answer, determinism, the stream folding to the JSON answer for any directives, and how an answer ends (a stop
sequence, max_tokens, a forced finish)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import event as note_event
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_server.upstream.base import Capabilities, UpstreamAdapter, UpstreamError, UpstreamRequest
from reference_server.upstream.scripted import DirectiveError, ScriptedAdapter, scripted_words
from tests.upstream.scripted.support import (
    TOOLS,
    as_message_dict,
    check_grammar,
    collect,
    folded_view,
    make_request,
)


async def test_default_answer_is_a_short_text() -> None:
    """Without directives: 12 words in 3-word deltas, end_turn, output_tokens = words, input_tokens = words
    of system + messages."""
    adapter = ScriptedAdapter()
    request = make_request()
    message = await adapter.chat(request)
    assert message.id.startswith("msg_")
    assert message.content == [{"type": "text", "text": " ".join(scripted_words(12))}]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert message.usage.output_tokens == 12
    system_words = 3  # "You are terse."
    assert message.usage.input_tokens == system_words + len(request.messages[0]["content"].split())
    deltas = [e for e in await collect(adapter, request) if e["type"] == "content_block_delta"]
    assert len(deltas) == 4


async def test_same_request_gives_the_same_answer() -> None:
    """Determinism: two adapters, same request → identical messages and streams; a new seed changes the
    words and a new prompt changes the id, but a new traceparent changes nothing."""
    first, second = ScriptedAdapter(), ScriptedAdapter()
    request = make_request("tool=get_weather; text_before_tool=1", tools=TOOLS)
    assert await first.chat(request) == await second.chat(request)
    assert await collect(first, request) == await collect(second, request)
    other_trace = make_request("tool=get_weather; text_before_tool=1", tools=TOOLS)
    other_trace.headers["traceparent"] = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"
    assert (await first.chat(other_trace)) == await first.chat(request)
    reseeded = await first.chat(make_request("seed=1"))
    assert reseeded.content != (await first.chat(make_request("seed=0"))).content
    assert (await first.chat(make_request(content="Hello"))).id != (await first.chat(make_request())).id


def test_adapter_satisfies_the_protocol() -> None:
    """ScriptedAdapter is an UpstreamAdapter with the slug and capabilities it was given."""
    adapter = ScriptedAdapter("scripted-notools", Capabilities(tools=False, native_streaming=False))
    assert isinstance(adapter, UpstreamAdapter)
    assert adapter.slug == "scripted-notools" and adapter.capabilities.tools is False


directive_sets = st.fixed_dictionaries(
    {},
    optional={
        "text_tokens": st.integers(0, 40),
        "chunk": st.integers(1, 7),
        "seed": st.integers(0, 5),
        "stop_sequence": st.sampled_from(["zzz", "END", "ridge", "a"]),
        "finish": st.sampled_from(["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal"]),
        "tool": st.sampled_from(["get_weather", "noop"]),
        "text_before_tool": st.sampled_from(["0", "1"]),
    },
)
tool_choices = st.sampled_from(
    [None, {"type": "auto"}, {"type": "any"}, {"type": "none"}, {"type": "tool", "name": "get_weather"}]
)


@st.composite
def scenarios(draw: st.DrawFn) -> UpstreamRequest:
    """A request plus a directive header. Tool directives mostly come with tools: a script that names a tool
    the request lacks is a plain DirectiveError and would otherwise crowd out the interesting cases."""
    with_tools = draw(st.booleans())
    directives = draw(directive_sets)
    if not with_tools and draw(st.integers(0, 9)) > 0:
        directives.pop("tool", None)
        if directives.get("finish") == "tool_use":
            del directives["finish"]
    return make_request(
        "; ".join(f"{k}={v}" for k, v in directives.items()),
        max_tokens=draw(st.one_of(st.integers(1, 30), st.integers(100, 400))),
        tools=TOOLS if with_tools else None,
        tool_choice=draw(tool_choices) if with_tools else None,
        stop_sequences=draw(st.sampled_from([[], [], ["meadow"], ["zzz", "ridge"]])),
    )


@settings(max_examples=50)
@given(request=scenarios())
def test_stream_folds_to_chat(request: UpstreamRequest) -> None:
    """For any directive combination, folding stream_chat() gives exactly chat() (content, stop reason and
    sequence, usage, id), the stream follows Anthropic's grammar, no output exceeds max_tokens, and no matched
    stop sequence appears in the text. A script that cannot apply fails the same way in both calls."""
    max_tokens = request.max_tokens
    adapter = ScriptedAdapter()

    async def both() -> tuple[Any, Any]:
        try:
            message: Any = await adapter.chat(request)
        except (ValueError, UpstreamError) as exc:
            message = type(exc)
        try:
            events: Any = await collect(adapter, request)
        except (ValueError, UpstreamError) as exc:
            events = type(exc)
        return message, events

    message, events = asyncio.run(both())
    if isinstance(message, type):
        note_event(f"fails with {message.__name__}")
        assert events is message
        return
    note_event(f"stop_reason={message.stop_reason}")
    check_grammar(events)
    assert folded_view(events) == as_message_dict(message)
    assert message.usage.output_tokens <= max_tokens
    text = "".join(b["text"] for b in message.content if b["type"] == "text")
    if message.stop_sequence is not None:
        assert message.stop_sequence not in text


async def test_stop_sequence_directive_ends_the_text_before_it() -> None:
    """stop_sequence=STR: the text is generated in full, STR is reported as matched and is not in the text."""
    message = await ScriptedAdapter().chat(make_request("stop_sequence=%0A%0AHuman:; text_tokens=5"))
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "\n\nHuman:")
    assert message.content[0]["text"] == " ".join(scripted_words(5))


async def test_request_stop_sequence_cuts_the_text_where_it_appears() -> None:
    """A request stop sequence that the generated words produce ends generation before the word that
    produced it, and is reported as the matched sequence."""
    words = scripted_words(12)
    position = next(i for i, w in enumerate(words) if w not in words[:i] and i > 0)
    message = await ScriptedAdapter().chat(make_request(stop_sequences=["@@", words[position]]))
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", words[position])
    assert message.content[0]["text"] == " ".join(words[:position])
    assert message.usage.output_tokens == position


async def test_text_longer_than_max_tokens_is_truncated() -> None:
    """text_tokens > max_tokens: exactly max_tokens words and stop_reason max_tokens; a tool call that no
    longer fits is left out."""
    adapter = ScriptedAdapter()
    message = await adapter.chat(make_request("text_tokens=20", max_tokens=7))
    assert message.content[0]["text"] == " ".join(scripted_words(7))
    assert (message.stop_reason, message.usage.output_tokens) == ("max_tokens", 7)
    tight = await adapter.chat(
        make_request("tool=get_weather; text_before_tool=1; text_tokens=4", tools=TOOLS, max_tokens=6)
    )
    assert [b["type"] for b in tight.content] == ["text"] and tight.stop_reason == "max_tokens"


async def test_finish_directive_forces_the_stop_reason() -> None:
    """finish=X relabels the ending (refusal, max_tokens, ...); stop_sequence is set only for that reason."""
    adapter = ScriptedAdapter()
    for reason in ("end_turn", "max_tokens", "refusal"):
        message = await adapter.chat(make_request(f"finish={reason}"))
        assert (message.stop_reason, message.stop_sequence) == (reason, None)
    forced = await adapter.chat(make_request("finish=stop_sequence", stop_sequences=["###"]))
    assert (forced.stop_reason, forced.stop_sequence) == ("stop_sequence", "###")
    tool = await adapter.chat(make_request("finish=tool_use", tools=TOOLS))
    assert tool.stop_reason == "tool_use" and tool.content[-1]["name"] == "get_weather"
    with pytest.raises(DirectiveError, match="finish"):
        await adapter.chat(make_request("finish=stop_sequence"))
