"""The frame parser on its own: WHATWG event-stream parsing plus the faults a strict checker reports."""

from __future__ import annotations

import pytest

from gateway_contracts.sse import Frame, FrameParser
from gateway_contracts.sse.framing import STANDARD_FIELDS
from tests.sse.vectors import VECTORS


def frames(*chunks: bytes | str, **kwargs: object) -> tuple[list[Frame], FrameParser]:
    parser = FrameParser(**kwargs)  # type: ignore[arg-type]
    out: list[Frame] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    out.extend(parser.close())
    return out, parser


def kinds(frame: Frame) -> list[str]:
    return [issue.kind for issue in frame.issues]


def test_the_common_shape() -> None:
    [f], _ = frames(b'event: ping\ndata: {"type":"ping"}\n\n')
    assert (f.index, f.event, f.data, f.payload, f.parsed, f.issues) == (
        0,
        "ping",
        '{"type":"ping"}',
        {"type": "ping"},
        True,
        (),
    )
    assert f.raw == b'event: ping\ndata: {"type":"ping"}'


def test_spec_details_field_order_space_multiline_comments() -> None:
    text = ': hello\n\ndata:{"a":\ndata: 1}\nevent:x\nid: 3\nretry: 10\n\n'
    [f], _ = frames(text)
    assert f.event == "x" and f.data == '{"a":\n1}' and f.payload == {"a": 1} and f.issues == ()


def test_comment_only_blocks_and_extra_blank_lines_are_not_frames() -> None:
    found, _ = frames(": a\n\n\n\n: b\n\ndata: 1\n\n\n\n\ndata: 2\n\n")
    assert [f.payload for f in found] == [1, 2] and [f.index for f in found] == [0, 1]


def test_only_one_leading_space_is_dropped() -> None:
    [f], _ = frames('event:  two\ndata:  "x"\n\n')
    assert f.event == " two" and f.data == ' "x"'


def test_crlf_reported_once_per_stream() -> None:
    found, _ = frames(b"data: 1\r\n\r\ndata: 2\r\n\r\n")
    assert [f.payload for f in found] == [1, 2]
    assert kinds(found[0]) == ["crlf"] and kinds(found[1]) == []


def test_lone_cr() -> None:
    found, _ = frames(b"data: 1\r\rdata: 2\r\r")
    assert [f.payload for f in found] == [1, 2] and kinds(found[0]) == ["cr"]


def test_cr_at_chunk_end_waits_for_the_next_byte() -> None:
    """'data: 1\\r' + '\\ndata: 2\\r\\n\\r\\n' is ONE frame with two data lines (CRLF), not two frames."""
    found, _ = frames(b"data: 1\r", b"\ndata: 2\r\n\r\n")
    assert [f.data for f in found] == ["1\n2"]


def test_bom_split_across_chunks() -> None:
    found, _ = frames(b"\xef", b"\xbb", b"\xbfdata: 1\n\n")
    assert [f.payload for f in found] == [1] and kinds(found[0]) == ["bom"]


def test_bom_in_an_empty_stream_is_a_stream_issue() -> None:
    found, parser = frames(b"\xef\xbb\xbf")
    assert found == [] and [i.kind for i in parser.stream_issues] == ["bom"]


def test_a_bom_prefix_that_ends_the_stream_is_content_not_a_bom() -> None:
    [f], parser = frames(b"\xef")
    assert parser.stream_issues == [] and "bom" not in kinds(f)
    assert kinds(f) == ["unknown_field", "unterminated", "no_data"]


def test_unterminated_last_frame_is_still_read() -> None:
    found, _ = frames(b"data: 1\n\ndata: 2\n")
    assert [f.payload for f in found] == [1, 2] and kinds(found[1]) == ["unterminated"]


def test_unknown_field_and_missing_data() -> None:
    [f], _ = frames(b"event: x\nfoo: bar\n\n")
    assert kinds(f) == ["unknown_field", "no_data"] and f.data is None and not f.parsed


def test_event_is_unknown_when_the_dialect_has_no_event_names() -> None:
    [f], _ = frames(b"event: x\ndata: 1\n\n", known_fields=frozenset({"data", "id", "retry"}))
    assert kinds(f) == ["unknown_field"] and f.event == "x" and f.payload == 1


def test_not_json_not_utf8_and_nan() -> None:
    found, _ = frames(b'data: {nope\n\ndata: "caf\xe9"\n\ndata: NaN\n\n')
    assert [kinds(f) for f in found] == [["not_json"], ["not_utf8"], ["not_json"]]
    assert not any(f.parsed for f in found)


def test_sentinel_is_not_parsed() -> None:
    [f], _ = frames(b"data: [DONE]\n\n", sentinels=frozenset({"[DONE]"}))
    assert f.data == "[DONE]" and not f.parsed and f.issues == ()


def test_json_null_is_parsed_not_missing() -> None:
    [f], _ = frames(b"data: null\n\n")
    assert f.parsed and f.payload is None


def test_feed_after_close_is_an_error() -> None:
    parser = FrameParser()
    parser.close()
    with pytest.raises(RuntimeError):
        parser.feed(b"data: 1\n\n")


def test_a_long_event_in_tiny_chunks() -> None:
    payload = '{"text":"' + "x" * 20000 + '"}'
    data = f"data: {payload}\n\n".encode()
    found, _ = frames(*[data[i : i + 3] for i in range(0, len(data), 3)])
    assert [f.data for f in found] == [payload]


def test_the_fast_path_reads_exactly_what_the_general_path_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is an optimisation only: switched off, every vector frames identically."""

    def read_all() -> list[list[Frame]]:
        out = []
        for vector in VECTORS:
            known = STANDARD_FIELDS if vector.dialect == "anthropic" else frozenset({"data", "id", "retry"})
            found, _ = frames(vector.data, known_fields=known, sentinels=frozenset({"[DONE]"}))
            out.append(found)
        return out

    fast = read_all()
    monkeypatch.setattr(FrameParser, "_fast", lambda self, block: None)
    assert read_all() == fast
