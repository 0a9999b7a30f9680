"""What the real providers refuse, so that the scripted upstream refuses it too.

The scripted upstream stands in for Anthropic on ``POST /v1/messages`` and for OpenAI on
``POST /v1/chat/completions``. A gateway in front of it is judged on what it does with the upstream's answers,
errors included; an upstream that accepts what the provider would refuse hides a gateway's bugs (a request that
names a model nobody serves got a 200) and blames it for others. So each request body is held to the rules the
provider documents, and a refusal comes back with the provider's own status and error envelope:

- Anthropic: ``400 invalid_request_error`` for a body it cannot take, ``404 not_found_error`` for a model it does
  not serve, in ``{"type": "error", "error": {"type": ..., "message": ...}}``; messages in Anthropic's style
  (``messages.0.role: Input should be 'user' or 'assistant'``).
- OpenAI: ``400`` ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}`` with OpenAI's codes
  (``missing_required_parameter``, ``invalid_type``, ``invalid_value``, ``integer_above_max_value``, ...), and
  ``404`` with ``code: model_not_found`` for a model it does not serve.

The rules are data: one JSON Schema per provider, built from the contract's own components
(``contracts/openapi.yaml``) where the contract says what the provider says, and written out here where it does
not. Each such place carries a ``# provider:`` comment saying how the provider differs from the contract. A few
rules no schema can say (tool calls paired with their results, an empty text block) are code beside the
schemas.

No message ever repeats a value from the request: not the model, not an unknown field's name, not a tool id.
A path names only the contract's own field names and array indexes.

By job: ``anthropic_rules`` and ``openai_rules`` (each provider's schema, wording and extra rules),
``served_models`` (which models answer, and their ``max_tokens`` ceilings), ``common`` (what both are built
from).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reference_server.upstream.scripted.provider_rules.anthropic_rules import (
    anthropic_schema,
    check_anthropic,
)
from reference_server.upstream.scripted.provider_rules.common import Json, ProviderRefusal
from reference_server.upstream.scripted.provider_rules.openai_rules import check_openai, openai_schema
from reference_server.upstream.scripted.provider_rules.served_models import (
    MAX_OUTPUT_TOKENS,
    NOT_SERVED,
    SCRIPTED_MODEL,
    ServedModels,
    default_served_models,
)

CHECKS: Mapping[str, Callable[[Json, ServedModels], None]] = {
    "anthropic": check_anthropic,
    "openai": check_openai,
}

__all__ = [
    "CHECKS",
    "MAX_OUTPUT_TOKENS",
    "NOT_SERVED",
    "SCRIPTED_MODEL",
    "ProviderRefusal",
    "ServedModels",
    "anthropic_schema",
    "check_anthropic",
    "check_openai",
    "default_served_models",
    "openai_schema",
]
