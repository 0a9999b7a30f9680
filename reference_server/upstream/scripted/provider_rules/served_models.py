"""The models the scripted upstream serves, and the per-model rules: a model nobody serves is a 404, a
``max_tokens`` past the model's own ceiling a 400, each in the provider's words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reference_server.upstream.scripted.provider_rules.common import ProviderRefusal, bad_request

SCRIPTED_MODEL = "scripted-model"
"""The model name third-party target files use for a gateway in front of the scripted upstream."""

NOT_SERVED = "the requested model is not served by this upstream"


def default_served_models() -> frozenset[str]:
    """The upstream model of every registered backend (what the reference gateway sends), plus
    ``scripted-model``."""
    from reference_server.upstream.registry import BACKENDS

    return frozenset({spec.upstream_model for spec in BACKENDS.values()} | {SCRIPTED_MODEL})


MAX_OUTPUT_TOKENS: Mapping[str, int] = {
    # provider: each model's own ceiling on max_tokens, from the providers' model pages. A model not listed
    # here has none but the schema's (at least 1).
    "claude-sonnet-4-5": 64_000,
    "gpt-4.1-mini": 32_768,
    "llama-3.3-70b-versatile": 32_768,
}


@dataclass(frozen=True)
class ServedModels:
    """The models this upstream answers for; ``names=None`` answers for any model (``--any-model``)."""

    names: frozenset[str] | None

    def serves(self, model: str) -> bool:
        return self.names is None or model in self.names


def model_rules(model: str, limit: Any, field: str, served: ServedModels, *, openai: bool) -> None:
    if not served.serves(model):
        if openai:
            raise ProviderRefusal(404, "not_found_error", NOT_SERVED, param="model", code="model_not_found")
        raise ProviderRefusal(404, "not_found_error", f"model: {NOT_SERVED}")
    ceiling = MAX_OUTPUT_TOKENS.get(model)
    if ceiling is not None and isinstance(limit, int) and limit > ceiling:
        if openai:
            raise bad_request(
                f"{field} is too large. This model supports at most {ceiling} completion tokens.",
                field,
                "invalid_value",
            )
        raise ProviderRefusal(
            400,
            "invalid_request_error",
            f"max_tokens: greater than {ceiling}, the maximum number of output tokens of this model",
        )
