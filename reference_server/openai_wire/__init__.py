"""Translation between Anthropic Messages form and OpenAI Chat Completions form, both directions, both modes.

Pure functions and small state machines, no IO, in two halves named for the side of the gateway they serve:

* **outbound**, the OpenAI-compatible adapter (``upstream/openai_compat.py``) talking to an upstream:
  ``outbound_request.anthropic_request_to_openai`` for the request; ``outbound_answer``'s
  ``openai_completion_to_message`` for a JSON answer and ``OpenAIChunkTranslator`` for a chunk stream;
* **inbound**, the gateway's own ``POST /v1/chat/completions`` serving an OpenAI client:
  ``inbound_request.openai_request_to_anthropic`` for the request body; ``inbound_answer``'s
  ``message_to_openai_completion`` for a JSON answer and ``anthropic_events_to_openai_chunks`` (or
  ``AnthropicEventTranslator``) for a stream.

``common`` holds what both halves read (``WireError``, OpenAI text and tool calls). The names below are
re-exported so that a caller that uses both halves (a test) has one place to import from.
"""

from reference_server.openai_wire.common import WireError
from reference_server.openai_wire.inbound_answer import (
    AnthropicEventTranslator,
    anthropic_events_to_openai_chunks,
    message_to_openai_completion,
)
from reference_server.openai_wire.inbound_request import (
    include_usage_requested,
    openai_messages_to_anthropic,
    openai_request_to_anthropic,
)
from reference_server.openai_wire.outbound_answer import (
    OpenAIChunkTranslator,
    matched_stop_sequence,
    openai_completion_to_message,
    openai_usage,
)
from reference_server.openai_wire.outbound_request import (
    anthropic_messages_to_openai,
    anthropic_request_to_openai,
)

__all__ = [
    "AnthropicEventTranslator",
    "OpenAIChunkTranslator",
    "WireError",
    "anthropic_events_to_openai_chunks",
    "anthropic_messages_to_openai",
    "anthropic_request_to_openai",
    "include_usage_requested",
    "matched_stop_sequence",
    "message_to_openai_completion",
    "openai_completion_to_message",
    "openai_messages_to_anthropic",
    "openai_request_to_anthropic",
    "openai_usage",
]
