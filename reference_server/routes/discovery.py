"""Discovery surfaces: ``/v1/models``, ``/.well-known/agent-card.json``, ``/llms.txt``, ``/healthz``,
``/openapi.json``.

None of them may carry a dead string (BRIEF §1): they are written from the canonical name only.
"""

from __future__ import annotations

from aiohttp import web

from contracts import openapi_json
from reference_server import __version__
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.mutants import mutated
from reference_server.state import STATE

LLMS_TXT = f"""# Ainfera Inference gateway

> An LLM inference gateway with an Anthropic-compatible Messages API and an OpenAI-compatible Chat Completions
> API. One model name, `{CANONICAL_MODEL}`, routes to the best available backend.

## API

- `POST /v1/messages`: Anthropic Messages API, streaming (`stream: true`) and tools.
- `POST /v1/chat/completions`: OpenAI-compatible chat completions, streaming and tools.
- `GET /v1/models`: the model this gateway serves: `{CANONICAL_MODEL}`.
- `GET /v1/audit/{{request_id}}`: the audit trail of one call (see the `x-ainfera-audit-url` response header).
- `GET /openapi.json`: the OpenAPI 3.1 contract of this surface.

## Model

- `{CANONICAL_MODEL}`: the canonical model. Send it as `model` in every request.
"""


async def list_models(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "object": "list",
            "data": [
                {
                    "id": CANONICAL_MODEL,
                    "object": "model",
                    "type": "model",
                    "display_name": "Ainfera Inference",
                    "owned_by": "ainfera",
                    "created_at": "2026-05-23T00:00:00Z",
                }
            ],
            "has_more": False,
            "first_id": CANONICAL_MODEL,
            "last_id": CANONICAL_MODEL,
        }
    )


async def agent_card(request: web.Request) -> web.Response:
    config = request.app[STATE].config
    url = config.public_url or f"http://{request.host}"
    return web.json_response(
        {
            "name": "Ainfera Inference gateway",
            "description": "LLM inference gateway: Anthropic Messages and OpenAI Chat Completions, one model.",
            "url": url,
            "version": __version__,
            # The mutant names the anthropic backend's own model id, as a card generated from config would.
            "default_model": "claude-sonnet-4-5" if mutated("agent-card-upstream-model") else CANONICAL_MODEL,
            "models": [CANONICAL_MODEL],
            "capabilities": {"streaming": True, "tools": True, "pushNotifications": False},
            "defaultInputModes": ["application/json"],
            "defaultOutputModes": ["application/json", "text/event-stream"],
            "skills": [
                {
                    "id": "inference",
                    "name": "Inference",
                    "description": f"Chat completions on {CANONICAL_MODEL}",
                    "tags": ["llm", "inference"],
                }
            ],
        }
    )


async def llms_txt(request: web.Request) -> web.Response:
    text = LLMS_TXT + "\n- `ainfera-mithril`: legacy name.\n" if mutated("dead-string-llms") else LLMS_TXT
    return web.Response(text=text, content_type="text/plain")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": __version__})


async def openapi(request: web.Request) -> web.Response:
    if mutated("openapi-stale-description"):
        stale = openapi_json().replace(
            b"ainfera-inference", b"ainfera-inference (formerly ainfera-mithril)", 1
        )
        return web.Response(body=stale, content_type="application/json")
    return web.Response(body=openapi_json(), content_type="application/json")
