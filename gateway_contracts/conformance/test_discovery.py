"""Discovery profile: silent aliases, unknown models, discovery surfaces, the OpenAPI document (BRIEF §1)."""

from __future__ import annotations

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.requests import ALIASES, CANONICAL, DEAD_STRINGS, chat, message
from gateway_contracts.conformance.streams import fold_anthropic
from gateway_contracts.conformance.test_wire import assert_error


@pytest.mark.clause("ALIAS-001", "ALIAS-002")
@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("stream", [False, True])
def test_alias_answers_as_canonical(gw: Exchanges, alias: str, stream: bool) -> None:
    r = gw.post("/v1/messages", message(model=alias, stream=stream))
    assert r.status_code == 200, f"{alias}: status {r.status_code} {r.text[:200]}"
    msg = fold_anthropic(r.text) if stream else r.json()
    assert msg["model"] == CANONICAL
    assert alias not in r.text, f"the alias {alias} came back in the body"
    assert not [h for h, v in r.headers.items() if alias in v], "the alias came back in a header"


@pytest.mark.clause("ALIAS-001", "ALIAS-002")
@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("stream", [False, True])
def test_alias_on_chat_completions(gw: Exchanges, alias: str, stream: bool) -> None:
    r = gw.post("/v1/chat/completions", chat(model=alias, stream=stream))
    assert r.status_code == 200, r.text[:200]
    assert alias not in r.text and CANONICAL in r.text


@pytest.mark.clause("ALIAS-003")
@pytest.mark.parametrize("model", ["gpt-unknown", "ainfera-inference-2", "mithril"])
def test_unknown_model_is_404(gw: Exchanges, model: str) -> None:
    assert_error(gw.post("/v1/messages", message(model=model)), 404, "not_found_error")


@pytest.mark.clause("DISC-001")
def test_agent_card_default_model(gw: Exchanges) -> None:
    r = gw.get("/.well-known/agent-card.json", auth=False)
    assert r.status_code == 200
    assert r.json().get("default_model") == CANONICAL


@pytest.mark.clause("DISC-002")
@pytest.mark.parametrize("path", ["/.well-known/agent-card.json", "/llms.txt"])
def test_no_dead_string_on_surface(gw: Exchanges, path: str) -> None:
    r = gw.get(path, auth=False)
    assert r.status_code == 200
    found = [s for s in DEAD_STRINGS if s in r.text.lower()]
    assert not found, f"{path} carries dead string(s) {found}"


@pytest.mark.clause("DISC-003")
def test_openapi_document_clean(gw: Exchanges) -> None:
    r = gw.get("/openapi.json", auth=False)
    if r.status_code == 404:
        pytest.skip("the gateway serves no /openapi.json")
    assert r.status_code == 200
    found = [s for s in DEAD_STRINGS if s in r.text.lower()]
    assert not found, f"/openapi.json carries dead string(s) {found}"
    assert "/metrics" not in r.json().get("paths", {}), "/metrics is in the public OpenAPI document"


@pytest.mark.clause("DISC-004")
def test_models_list(gw: Exchanges) -> None:
    r = gw.get("/v1/models")
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert CANONICAL in ids and not set(ids) & set(ALIASES)
