"""Silent aliases, unknown models, discovery surfaces, the OpenAPI document (BRIEF §1): the ``ainfera`` profile.

The canonical model is the target's model (``models.default``); its aliases are the target's ``models.aliases``;
the dead strings and the discovery paths are the seed's (``contracts/ainfera.yaml``).
"""

from __future__ import annotations

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.envelopes import assert_error
from gateway_contracts.conformance.requests import AINFERA
from gateway_contracts.conformance.streams import fold_anthropic
from gateway_contracts.failures import checking

DEAD_STRINGS: list[str] = AINFERA["dead_strings"]
ALIAS_SLOTS = range(3)
"""Aliases are the target's, known only at run time: tests take them by position (a slot past the target's
list is skipped)."""


def alias(gw: Exchanges, slot: int) -> str:
    if slot >= len(gw.target.aliases):
        pytest.skip(f"the target declares {len(gw.target.aliases)} alias(es)")
    return gw.target.aliases[slot]


@pytest.mark.clause("ALIAS-001", "ALIAS-002")
@pytest.mark.needs("surface:messages", "aliases")
@pytest.mark.parametrize("slot", ALIAS_SLOTS)
@pytest.mark.parametrize("stream", [False, True])
def test_alias_answers_as_canonical(gw: Exchanges, slot: int, stream: bool) -> None:
    name = alias(gw, slot)
    r = gw.post("/v1/messages", gw.message(model=name, stream=stream))
    assert r.status_code == 200, f"{name}: status {r.status_code} {r.text[:200]}"
    with checking("ALIAS-002"):
        assert name not in r.text, f"the alias {name} came back in the body"
        assert not [h for h, v in r.headers.items() if name in v], "the alias came back in a header"
    msg = fold_anthropic(r.text) if stream else r.json()
    assert msg["model"] == gw.target.messages_model


@pytest.mark.clause("ALIAS-001", "ALIAS-002")
@pytest.mark.needs("surface:chat-completions", "aliases")
@pytest.mark.parametrize("slot", ALIAS_SLOTS)
@pytest.mark.parametrize("stream", [False, True])
def test_alias_on_chat_completions(gw: Exchanges, slot: int, stream: bool) -> None:
    name = alias(gw, slot)
    r = gw.post("/v1/chat/completions", gw.chat(model=name, stream=stream))
    assert r.status_code == 200, r.text[:200]
    with checking("ALIAS-002"):
        assert name not in r.text, f"the alias {name} came back in the answer"
    assert gw.target.chat_model in r.text


@pytest.mark.clause("ALIAS-003")
@pytest.mark.needs("surface:messages")
@pytest.mark.parametrize("which", ["unknown", "canonical-suffixed", "dead-string"])
def test_unknown_model_is_404(gw: Exchanges, which: str) -> None:
    model = {
        "unknown": gw.target.unknown_model,
        "canonical-suffixed": f"{gw.target.messages_model}-2",
        "dead-string": DEAD_STRINGS[0],
    }[which]
    assert_error(gw.post("/v1/messages", gw.message(model=model)), 404, "not_found_error")


@pytest.mark.clause("DISC-001")
@pytest.mark.needs("surface:discovery")
def test_agent_card_default_model(gw: Exchanges) -> None:
    r = gw.get(AINFERA["agent_card"], auth=False)
    assert r.status_code == 200
    assert r.json().get("default_model") == AINFERA["canonical_model"]


@pytest.mark.clause("DISC-002")
@pytest.mark.needs("surface:discovery")
@pytest.mark.parametrize("surface", ["agent_card", "llms_txt"])
def test_no_dead_string_on_surface(gw: Exchanges, surface: str) -> None:
    path = AINFERA[surface]
    r = gw.get(path, auth=False)
    assert r.status_code == 200
    found = [s for s in DEAD_STRINGS if s in r.text.lower()]
    assert not found, f"{path} carries dead string(s) {found}"


@pytest.mark.clause("DISC-003")
@pytest.mark.needs("surface:openapi")
def test_openapi_document_clean(gw: Exchanges) -> None:
    r = gw.get("/openapi.json", auth=False)
    assert r.status_code == 200
    found = [s for s in DEAD_STRINGS if s in r.text.lower()]
    assert not found, f"/openapi.json carries dead string(s) {found}"
    assert gw.target.metrics_path not in r.json().get("paths", {}), (
        "the metrics path is in the public document"
    )


@pytest.mark.clause("DISC-004")
@pytest.mark.needs("surface:models-list")
def test_models_list(gw: Exchanges) -> None:
    r = gw.get("/v1/models")
    assert r.status_code == 200
    ids = [m["id"] for m in r.json()["data"]]
    assert AINFERA["canonical_model"] in ids and not set(ids) & set(gw.target.aliases)
