"""Served models (``provider_rules.served_models``): a model the scripted upstream does not serve is each
provider's 404, naming nothing from the request; the default set, ``--model`` and ``--any-model``."""

from __future__ import annotations

import aiohttp
import pytest

from reference_server.upstream.registry import BACKENDS
from reference_server.upstream.scripted.provider_rules import (
    NOT_SERVED,
    SCRIPTED_MODEL,
    default_served_models,
)
from reference_server.upstream.scripted.server import served_models, start_server
from tests.upstream.scripted.provider_bodies import (
    ANTHROPIC_MODEL,
    BASES,
    CHAT,
    MESSAGES,
    SECRET,
    assert_refused,
    post,
)


@pytest.mark.parametrize("path", [MESSAGES, CHAT])
@pytest.mark.parametrize("stream", [False, True])
async def test_an_unknown_model_is_a_404_that_does_not_name_it(
    upstream: str, http: aiohttp.ClientSession, path: str, stream: bool
) -> None:
    status, body, text = await post(http, upstream + path, BASES[path](model=SECRET, stream=stream))
    assert_refused(path, status, body, text, expected_status=404)
    if path == MESSAGES:
        assert body["error"]["message"] == f"model: {NOT_SERVED}"
    else:
        assert body["error"] == {
            "message": NOT_SERVED,
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }


async def test_served_models_default_extend_and_any(http: aiohttp.ClientSession) -> None:
    """Every backend's upstream model and scripted-model by default; ``--model`` adds to them; ``--any-model``
    answers for any name, echoing it as before."""
    assert default_served_models() == {s.upstream_model for s in BACKENDS.values()} | {SCRIPTED_MODEL}
    for served, model, expected in (
        (served_models(), SCRIPTED_MODEL, 200),
        (served_models(), "my-model", 404),
        (served_models(["my-model"]), "my-model", 200),
        (served_models(["my-model"]), ANTHROPIC_MODEL, 200),
        (served_models(any_model=True), "anything-at-all", 200),
    ):
        runner, port = await start_server(served=served)
        try:
            for path in (MESSAGES, CHAT):
                status, body, text = await post(
                    http, f"http://127.0.0.1:{port}{path}", BASES[path](model=model)
                )
                assert status == expected, text
                if expected == 200:
                    assert body["model"] == model
        finally:
            await runner.cleanup()
