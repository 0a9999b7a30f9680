"""Aliases and discovery surfaces (BRIEF §1): silent aliases, unknown model 404, no dead strings anywhere."""

from __future__ import annotations

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from contracts import CONTRACTS_DIR
from reference_server.models_catalog import CANONICAL_MODEL, DEAD_STRINGS, LEGACY_ALIASES
from tests.support.gateway import CLIENT_KEY
from tests.support.servers import ServerThread

AUTH = {"x-api-key": CLIENT_KEY}
BODY = {"max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("alias", sorted(LEGACY_ALIASES))
@pytest.mark.parametrize("stream", [False, True])
def test_alias_answers_as_canonical(gateway: ServerThread, alias: str, stream: bool) -> None:
    """ALIAS: a request naming a legacy alias succeeds exactly as the canonical one; the alias never comes back."""
    canon = httpx.post(
        f"{gateway.url}/v1/messages", headers=AUTH, json={**BODY, "model": CANONICAL_MODEL, "stream": stream}
    )
    aliased = httpx.post(
        f"{gateway.url}/v1/messages", headers=AUTH, json={**BODY, "model": alias, "stream": stream}
    )
    assert aliased.status_code == canon.status_code == 200
    assert alias not in aliased.text and "mithril" not in aliased.text
    assert aliased.text == canon.text  # same upstream behaviour, same bytes: the alias is invisible
    assert all(alias not in v for v in aliased.headers.values())


def test_unknown_model_is_404(gateway: ServerThread) -> None:
    """ALIAS: an unknown model is 404 not_found_error, not a fallback."""
    r = httpx.post(f"{gateway.url}/v1/messages", headers=AUTH, json={**BODY, "model": "claude-unknown"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_models_lists_canonical_only(gateway: ServerThread) -> None:
    """DISCOVERY: GET /v1/models lists the canonical model only."""
    data = httpx.get(f"{gateway.url}/v1/models", headers=AUTH).json()["data"]
    assert [m["id"] for m in data] == [CANONICAL_MODEL]


@pytest.mark.parametrize("path", ["/.well-known/agent-card.json", "/llms.txt", "/v1/models", "/openapi.json"])
def test_no_dead_string_on_discovery_surfaces(gateway: ServerThread, path: str) -> None:
    """DISCOVERY: no discovery surface (nor the OpenAPI descriptions) carries a dead string."""
    r = httpx.get(f"{gateway.url}{path}", headers=AUTH)
    assert r.status_code == 200
    lowered = r.text.lower()
    assert [s for s in DEAD_STRINGS if s in lowered] == []


def test_agent_card_default_model(gateway: ServerThread) -> None:
    """DISCOVERY: the agent card's default model is the canonical one."""
    assert httpx.get(f"{gateway.url}/.well-known/agent-card.json").json()["default_model"] == CANONICAL_MODEL


def test_openapi_served_is_the_contract(gateway: ServerThread) -> None:
    """CONTRACT: /openapi.json is exactly contracts/openapi.yaml, a valid OpenAPI 3.1 document without /metrics."""
    served = httpx.get(f"{gateway.url}/openapi.json").json()
    on_disk = yaml.safe_load((CONTRACTS_DIR / "openapi.yaml").read_text())
    assert served == on_disk
    validate(served)
    assert "/metrics" not in served["paths"]


def test_healthz(gateway: ServerThread) -> None:
    assert httpx.get(f"{gateway.url}/healthz").json()["status"] == "ok"
