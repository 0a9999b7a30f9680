"""Replay a finished message as Anthropic stream events (``x-ainfera-stream-mode: wrapped``).

Used only for a backend without native streaming: time to first token then equals the whole call, which is why
the header says so and the reference backends all stream natively.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from reference_server.upstream.base import StreamEvent, UpstreamMessage


async def replay(msg: UpstreamMessage, model: str) -> AsyncIterator[StreamEvent]:
    yield {
        "type": "message_start",
        "message": {
            "id": msg.id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": msg.usage.input_tokens, "output_tokens": 0},
        },
    }
    for index, block in enumerate(msg.content):
        if block["type"] == "tool_use":
            yield {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
            delta = {"type": "text_delta", "text": block.get("text", "")}
        yield {"type": "content_block_delta", "index": index, "delta": delta}
        yield {"type": "content_block_stop", "index": index}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": msg.stop_reason, "stop_sequence": msg.stop_sequence},
        "usage": {"output_tokens": msg.usage.output_tokens},
    }
    yield {"type": "message_stop"}
