"""Request bodies and directives the conformance tests send."""

from __future__ import annotations

from typing import Any

CANONICAL = "ainfera-inference"
ALIASES = ("ainfera-mithril", "ainfera-auto", "ainfera/auto")
DEAD_STRINGS = ("mithril", "aamc", "ainfera-auto", "ainfera/auto")
SCRIPT = "x-upstream-script"
BACKEND = "x-ainfera-backend"
NO_TOOLS_BACKEND = "together"
OPENAI_DIALECT_BACKEND = "openai"

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 2},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
    },
}


def message(
    model: str = CANONICAL, max_tokens: int = 64, stream: bool = False, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "Say something short."}],
    }
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def chat(model: str = CANONICAL, stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}],
    }
    if stream:
        body["stream"] = True
    body.update(extra)
    return body
