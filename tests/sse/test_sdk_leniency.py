"""Why the strict checker matters (BRIEF §2): the official anthropic SDK reads these broken streams without a word,
while the validator names the clause each one breaks.

The SDK is driven the way an application uses it (``client.messages.stream(...).get_final_message()``) against a
mock transport that answers with the vector's bytes.
"""

from __future__ import annotations

import pytest

from gateway_contracts.sse import validate
from tests.sse.vectors import INVALID, Vector

anthropic = pytest.importorskip("anthropic")
httpx2 = pytest.importorskip("httpx2")

ACCEPTED_BY_SDK = [v for v in INVALID if v.sdk_accepts]


def sdk_final_message(body: bytes) -> object:
    def answer(request: object) -> object:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    client = anthropic.Anthropic(
        api_key="test-key",
        base_url="http://gateway.invalid",
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        max_retries=0,
    )
    with client.messages.stream(
        model="ainfera-inference", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        return stream.get_final_message()


def test_the_brief_s_list_is_covered() -> None:
    """BRIEF §2: missing message_stop, truncated tool block, event name ≠ type, unknown events, wrong delta kind,
    stop_reason "banana", events after message_stop."""
    clauses = {v.breaks for v in ACCEPTED_BY_SDK}
    assert {"SSE-019", "SSE-022", "SSE-007", "SSE-008", "SSE-021", "SSE-023", "SSE-017"} <= clauses


@pytest.mark.parametrize("vector", ACCEPTED_BY_SDK, ids=str)
def test_sdk_accepts_what_the_validator_flags(vector: Vector) -> None:
    message = sdk_final_message(vector.data)  # no exception: the SDK is satisfied
    assert message is not None
    assert vector.breaks in {v.clause for v in validate(vector.data, vector.dialect)}


def test_for_example_banana_reaches_the_application() -> None:
    from tests.sse.vectors import VECTOR_DIR

    message = sdk_final_message((VECTOR_DIR / "anthropic/stop_reason_banana.sse").read_bytes())
    assert message.stop_reason == "banana"  # type: ignore[attr-defined]
