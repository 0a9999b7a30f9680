"""The registered backends and the factories that turn them into adapters.

Five backends, two dialects. Together is registered without tool support: it is the backend that makes
``422 tools_not_supported_by_backend`` a real path rather than a hypothetical one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .anthropic_native import AnthropicAdapter
from .base import Capabilities, UpstreamAdapter
from .http_session import SessionHolder
from .openai_compat import OpenAICompatAdapter

Dialect = Literal["anthropic", "openai"]

DEFAULT_BACKEND = "anthropic"
ALL_BACKENDS = "*"
"""Override key pointing every backend at one base URL (the scripted upstream server on loopback, say)."""
PROVIDER_DEFAULT = "default"
"""Override value meaning "the provider's own base URL"."""


@dataclass(frozen=True)
class BackendSpec:
    slug: str
    dialect: Dialect
    base_url: str
    api_key_env: str
    upstream_model: str
    capabilities: Capabilities
    max_tokens_field: str = "max_tokens"
    """OpenAI's own API wants ``max_completion_tokens`` (its reasoning models refuse ``max_tokens``)."""
    stream_usage_option: bool = True
    """Send ``stream_options.include_usage``. Mistral refuses the field (422 extra_forbidden) and reports
    usage in its last chunk unasked."""
    short_tool_ids: bool = False
    """Mistral wants 9-character alphanumeric tool call ids in the history it is sent."""

    def at_provider(self, base_url: str) -> bool:
        """Whether ``base_url`` is the provider itself. Provider quirks (the two fields above) apply only
        then: pointed anywhere else (the scripted upstream, vLLM, a proxy) a backend speaks plain OpenAI."""
        return base_url.rstrip("/") == self.base_url


_TOOLS = Capabilities(tools=True, native_streaming=True)
_NO_TOOLS = Capabilities(tools=False, native_streaming=True)

BACKENDS: dict[str, BackendSpec] = {
    spec.slug: spec
    for spec in (
        BackendSpec(
            "anthropic",
            "anthropic",
            "https://api.anthropic.com",
            "ANTHROPIC_API_KEY",
            "claude-sonnet-4-5",
            _TOOLS,
        ),
        BackendSpec(
            "openai",
            "openai",
            "https://api.openai.com",
            "OPENAI_API_KEY",
            "gpt-4.1-mini",
            _TOOLS,
            max_tokens_field="max_completion_tokens",
        ),
        BackendSpec(
            "mistral",
            "openai",
            "https://api.mistral.ai",
            "MISTRAL_API_KEY",
            "mistral-large-latest",
            _TOOLS,
            stream_usage_option=False,
            short_tool_ids=True,
        ),
        BackendSpec(
            "groq", "openai", "https://api.groq.com/openai", "GROQ_API_KEY", "llama-3.3-70b-versatile", _TOOLS
        ),
        BackendSpec(
            "together",
            "openai",
            "https://api.together.xyz",
            "TOGETHER_API_KEY",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            _NO_TOOLS,
        ),
    )
}


def build_http_adapter(
    spec: BackendSpec, base_url: str, session_holder: SessionHolder, *, api_key: str = ""
) -> UpstreamAdapter:
    if spec.dialect == "anthropic":
        return AnthropicAdapter(
            spec.slug,
            base_url,
            api_key,
            spec.capabilities,
            session_holder,
            upstream_model=spec.upstream_model,
        )
    at_provider = spec.at_provider(base_url)
    return OpenAICompatAdapter(
        spec.slug,
        base_url,
        api_key,
        spec.capabilities,
        session_holder,
        upstream_model=spec.upstream_model,
        max_tokens_field=spec.max_tokens_field,
        stream_usage_option=spec.stream_usage_option or not at_provider,
        short_tool_ids=spec.short_tool_ids and at_provider,
    )


def build_http_adapters(
    overrides: Mapping[str, str], session_holder: SessionHolder, *, env: Mapping[str, str] | None = None
) -> dict[str, UpstreamAdapter]:
    """HTTP adapters for the backends named in ``overrides`` (slug → base URL), or for all of them when the
    ``"*"`` key is present; a slug's own entry wins over ``"*"``, and the value ``"default"`` means the
    provider's real URL. Keys come from each backend's environment variable (``env`` defaults to
    ``os.environ``); a missing key sends no auth header, which is right for a loopback upstream."""
    unknown = sorted(set(overrides) - set(BACKENDS) - {ALL_BACKENDS})
    if unknown:
        raise ValueError(f"unknown backend(s) {', '.join(unknown)}; known: {', '.join(BACKENDS)}")
    environment = os.environ if env is None else env
    slugs = list(BACKENDS) if ALL_BACKENDS in overrides else [slug for slug in BACKENDS if slug in overrides]
    adapters: dict[str, UpstreamAdapter] = {}
    for slug in slugs:
        spec = BACKENDS[slug]
        base_url = overrides.get(slug, overrides.get(ALL_BACKENDS, PROVIDER_DEFAULT))
        if base_url == PROVIDER_DEFAULT:
            base_url = spec.base_url
        api_key = environment.get(spec.api_key_env, "")
        adapters[slug] = build_http_adapter(spec, base_url, session_holder, api_key=api_key)
    return adapters


def build_scripted_adapters() -> dict[str, UpstreamAdapter]:
    """The in-process scripted backend under every registered slug, with that backend's capabilities."""
    # Imported here so that a gateway fronting real providers never loads the scripted engine.
    from .scripted.adapter import ScriptedAdapter

    return {slug: ScriptedAdapter(slug, spec.capabilities) for slug, spec in BACKENDS.items()}
