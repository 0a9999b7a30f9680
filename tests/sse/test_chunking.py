"""Chunking invariance: however the bytes are split, the validator reports exactly the same violations."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway_contracts.sse import Violation, validator_for
from tests.sse.vectors import VECTORS, Vector


def run(vector: Vector, pieces: list[bytes] | list[str]) -> list[Violation]:
    validator = validator_for(vector.dialect)
    live: list[Violation] = []
    for piece in pieces:
        live.extend(validator.feed(piece))
    final = validator.close()
    # feed() reports as the stream arrives; close() returns everything, and the live reports are its prefix.
    assert final[: len(live)] == live
    return final


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300)
@given(vector=st.sampled_from(VECTORS), cuts=st.lists(st.integers(0, 4000), max_size=40))
def test_any_split_gives_the_same_violations(vector: Vector, cuts: list[int]) -> None:
    data = vector.data
    assert run(vector, split(data, cuts)) == run(vector, [data])


@pytest.mark.parametrize("vector", VECTORS, ids=str)
def test_byte_at_a_time(vector: Vector) -> None:
    data = vector.data
    assert run(vector, [data[i : i + 1] for i in range(len(data))]) == run(vector, [data])


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.data.isascii() or v.valid], ids=str)
def test_text_chunks_equal_bytes(vector: Vector) -> None:
    """Feeding str (as an HTTP client's text iterator would) gives what feeding the bytes gives."""
    text = vector.data.decode("utf-8", "surrogateescape")
    pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
    assert run(vector, pieces) == run(vector, [vector.data])


@settings(max_examples=200)
@given(
    vector=st.sampled_from([v for v in VECTORS if v.valid]),
    cuts=st.lists(st.integers(0, 4000), max_size=20),
    ending=st.sampled_from([b"\r\n", b"\r"]),
)
def test_line_endings_split_anywhere(vector: Vector, cuts: list[int], ending: bytes) -> None:
    """CR and CRLF streams are the split-sensitive case: a CR at a chunk's end may be half of a CRLF."""
    data = vector.data.replace(b"\n", ending)
    assert run(vector, split(data, cuts)) == run(vector, [data])
