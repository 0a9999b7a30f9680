"""The conformance tests' stream helpers read streams with the strict parser, and a broken stream is its SSE
clause's failure, never a parse error of the test that wanted the stream's content."""

from __future__ import annotations

import pytest

from gateway_contracts.conformance.streams import (
    assert_stream_follows_grammar,
    data_chunks,
    fold_anthropic,
    sse_events,
)
from gateway_contracts.failures import ClauseFailure
from gateway_contracts.sse import FrameParser
from tests.sse.vectors import VALID, VECTOR_DIR, Vector


def parsed_frames(vector: Vector) -> list[object]:
    parser = FrameParser(sentinels=frozenset({"[DONE]"}) if vector.dialect == "openai" else frozenset())
    return [f.payload if f.parsed else f.data for f in [*parser.feed(vector.data), *parser.close()]]


@pytest.mark.parametrize("vector", VALID, ids=str)
def test_the_helpers_read_what_the_validator_reads(vector: Vector) -> None:
    assert_stream_follows_grammar(vector.data, vector.dialect, strict=True)
    if vector.dialect == "anthropic":
        assert sse_events(vector.data) == parsed_frames(vector)
        assert sse_events(vector.data.decode("utf-8")) == parsed_frames(vector)
    else:
        assert data_chunks(vector.data) == parsed_frames(vector)


def test_a_multiline_data_frame_is_one_document() -> None:
    """Data lines join with LF (the event-stream rules): one JSON document, not one per line."""
    text = 'data: {"a":\ndata: 1}\n\ndata: [DONE]\n\n'
    assert data_chunks(text) == [{"a": 1}, "[DONE]"]
    assert sse_events('event: ping\r\ndata: {"type":\r\ndata: "ping"}\r\n\r\n') == [{"type": "ping"}]


def test_unreadable_data_is_the_grammars_finding_not_a_parse_error() -> None:
    broken = 'data: {"id": 1,\n\ndata: [DONE]\n\n'
    assert data_chunks(broken) == ["[DONE]"]
    with pytest.raises(ClauseFailure) as caught:
        assert_stream_follows_grammar(broken, "openai")
    assert caught.value.clause == "OAI-SSE-006"


def test_a_truncated_stream_fails_its_sse_clause() -> None:
    whole = (VECTOR_DIR / "anthropic/valid_text.sse").read_bytes()
    cut = whole[: whole.index(b"event: message_delta")]
    assert fold_anthropic(whole)["stop_reason"] == "end_turn"
    with pytest.raises(ClauseFailure) as caught:
        fold_anthropic(cut)
    assert caught.value.clause == "SSE-019"
