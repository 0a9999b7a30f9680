"""Request bodies the conformance tests send, and the contract's names they use.

No Ainfera name is a constant here: the ``ainfera`` profile's facts come from ``contracts/ainfera.yaml``, the
scripted upstream's directive header from ``contracts/scripted-upstream.yaml``, and the models from the target.
"""

from __future__ import annotations

from typing import Any

from contracts import load_yaml

AINFERA: dict[str, Any] = load_yaml("ainfera.yaml")
SCRIPTED: dict[str, Any] = load_yaml("scripted-upstream.yaml")
SCRIPT: str = SCRIPTED["directive_header"]
"""The scripted upstream's directive header (feature scripted-upstream)."""

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


def message(model: str, max_tokens: int = 64, stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "Say something short."}],
    }
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def chat(model: str, stream: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}],
    }
    if stream:
        body["stream"] = True
    body.update(extra)
    return body
