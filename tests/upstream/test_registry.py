"""The backend registry (``reference_server/upstream/registry.py``): the five backends, URL overrides, and a
backend without tool support never sent tools."""

from __future__ import annotations

import pytest

from reference_server.upstream.anthropic_native import AnthropicAdapter
from reference_server.upstream.base import UpstreamError
from reference_server.upstream.http_session import SessionHolder
from reference_server.upstream.openai_compat import OpenAICompatAdapter
from reference_server.upstream.registry import BACKENDS, DEFAULT_BACKEND, build_http_adapters
from tests.upstream.scenarios import PARIS, weather_request


def test_registry_has_the_five_backends() -> None:
    assert DEFAULT_BACKEND == "anthropic"
    assert {slug: (spec.dialect, spec.base_url, spec.api_key_env) for slug, spec in BACKENDS.items()} == {
        "anthropic": ("anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY"),
        "openai": ("openai", "https://api.openai.com", "OPENAI_API_KEY"),
        "mistral": ("openai", "https://api.mistral.ai", "MISTRAL_API_KEY"),
        "groq": ("openai", "https://api.groq.com/openai", "GROQ_API_KEY"),
        "together": ("openai", "https://api.together.xyz", "TOGETHER_API_KEY"),
    }
    assert [slug for slug, spec in BACKENDS.items() if not spec.capabilities.tools] == ["together"]
    assert all(spec.capabilities.native_streaming for spec in BACKENDS.values())


def test_build_http_adapters_overrides() -> None:
    holder = SessionHolder()
    everything = build_http_adapters(
        {"*": "http://127.0.0.1:9100", "groq": "http://127.0.0.1:9200"}, holder, env={}
    )
    assert list(everything) == list(BACKENDS)
    assert isinstance(everything["anthropic"], AnthropicAdapter)
    assert all(
        isinstance(everything[slug], OpenAICompatAdapter)
        for slug in ("openai", "mistral", "groq", "together")
    )
    assert "127.0.0.1:9100/v1/messages" in repr(everything["anthropic"])
    assert "127.0.0.1:9200/v1/chat/completions" in repr(everything["groq"])
    one = build_http_adapters({"mistral": "default"}, holder, env={})
    assert list(one) == ["mistral"] and "https://api.mistral.ai/v1/chat/completions" in repr(one["mistral"])
    # Mistral's quirks apply at Mistral only; pointed at the scripted upstream it speaks plain OpenAI.
    at_mistral, elsewhere = one["mistral"], everything["mistral"]
    assert isinstance(at_mistral, OpenAICompatAdapter) and isinstance(elsewhere, OpenAICompatAdapter)
    assert (at_mistral.stream_usage_option, at_mistral.short_tool_ids) == (False, True)
    assert (elsewhere.stream_usage_option, elsewhere.short_tool_ids) == (True, False)
    with pytest.raises(ValueError, match="unknown backend"):
        build_http_adapters({"mistrall": "http://127.0.0.1:1"}, holder)


async def test_tools_are_never_sent_to_a_backend_without_tool_support() -> None:
    holder = SessionHolder()
    together = build_http_adapters({"together": "http://127.0.0.1:9"}, holder)["together"]
    assert together.capabilities.tools is False
    with pytest.raises(UpstreamError) as caught:
        await together.chat(weather_request(PARIS))
    assert caught.value.status == 400 and "does not support tools" in caught.value.message
    await holder.close()
