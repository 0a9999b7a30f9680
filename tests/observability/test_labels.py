"""Label rules (BRIEF §4): no identity or unbounded label, path as the route template, capped at 200."""

from __future__ import annotations

import secrets

import httpx

from contracts.metrics_rules import label_violations, metrics_rules
from reference_server.observability.metrics import GatewayMetrics, PathLabels
from tests.observability.gateways import Gateway
from tests.observability.support import scrape

AUTH = {"x-api-key": "sk-test-obs-client-0123456789"}


def test_no_identity_in_any_label(gateway: Gateway) -> None:
    """Tenant, agent, user and key ids sent in paths, headers and bodies, on routed calls and on unmatched and
    templated routes, appear in no label name and no label value."""
    ident = secrets.token_hex(6)
    ids = {
        "tenant": f"tenant-{ident}",
        "agent": f"agent-{ident}",
        "user": f"user-{ident}",
        "owner": f"owner-{ident}",
    }
    headers = {
        **AUTH,
        "x-tenant-id": ids["tenant"],
        "x-ainfera-agent-id": ids["agent"],
        "x-user-id": ids["user"],
        "x-owner-handle": ids["owner"],
        "x-forwarded-for": "203.0.113.77",
    }
    body = {
        "model": "ainfera-inference",
        "max_tokens": 16,
        "metadata": {"user_id": ids["user"]},
        "messages": [{"role": "user", "content": f"I am {ids['user']} of {ids['tenant']}"}],
    }
    with httpx.Client(base_url=gateway.url, headers=headers) as c:
        assert c.post("/v1/messages", json=body).status_code == 200
        assert c.post("/v1/messages", json={**body, "stream": True}).status_code == 200
        c.get(f"/v1/audit/req_{ident}{ident}")
        c.get(f"/tenants/{ids['tenant']}/agents/{ids['agent']}/users/{ids['user']}")
        c.post(f"/v1/messages/{ids['agent']}", json=body)
    s = scrape(gateway.url)
    assert label_violations(s.pairs()) == []
    rules = metrics_rules()
    assert not [label for _, labels in s.pairs() for label in labels if rules.label_is_forbidden(label)]
    leaked = [
        (n, lbl) for n, lbl in s.pairs() if any(ident in v or "203.0.113.77" in v for v in lbl.values())
    ]
    assert not leaked
    assert "/v1/audit/{request_id}" in s.label_values("path")


def test_1000_distinct_raw_paths_fold(fresh_gateway: Gateway) -> None:
    """1,000 requests to distinct raw paths (unmatched ones, and a templated route with 1,000 ids) leave at most
    200 path values, none of them a raw path or id: unmatched fold into __unmatched__, ids into the template."""
    ids = [secrets.token_hex(12) for _ in range(1000)]
    with httpx.Client(base_url=fresh_gateway.url, headers=AUTH) as c:
        for i, raw in enumerate(ids):
            path = f"/v1/audit/req_{raw}" if i % 2 else f"/probe/{raw}/{i}"
            assert c.get(path).status_code in (400, 404)
    s = scrape(fresh_gateway.url)
    paths = s.label_values("path")
    assert len(paths) <= 200
    assert not [p for p in paths if any(raw in p for raw in ids) or "/probe/" in p]
    assert {"__unmatched__", "/v1/audit/{request_id}"} <= paths
    assert s.value("ainfera_http_requests_total", path="__unmatched__") == 500
    assert s.value("ainfera_http_requests_total", path="/v1/audit/{request_id}") == 500


def test_path_cap_folds_into_overflow() -> None:
    """Past the cap, new route templates fold into __overflow__; templates already seen keep their value, so a
    series never changes its labels; the distinct values never exceed the cap, fold values included."""
    rules = metrics_rules()
    paths = PathLabels(rules)
    labels = {paths.label(f"/dynamic/{i}/{{id}}") for i in range(1000)}
    labels |= {paths.label(None)}
    assert len(labels) <= rules.path_cap
    assert rules.path_overflow in labels and rules.path_unmatched in labels
    assert paths.label("/dynamic/0/{id}") == "/dynamic/0/{id}"
    assert paths.label("/dynamic/999/{id}") == rules.path_overflow


def test_method_folds_outside_the_standard_set() -> None:
    """method is a closed set: standard methods keep their name (upper-cased), anything else is __other__."""
    metrics = GatewayMetrics(version="t", process_metrics=False)
    assert metrics.method_label("get") == "GET"
    assert metrics.method_label("PROPFIND") == "__other__"
    assert metrics.method_label("X" * 500) == "__other__"


def test_registry_is_the_gateways_own() -> None:
    """Two gateways in one process do not share counters (no process-global registry)."""
    a, b = (
        GatewayMetrics(version="t", process_metrics=False),
        GatewayMetrics(version="t", process_metrics=False),
    )
    a.alias_hit("ainfera-auto")
    sample = ("ainfera_router_alias_hit_total", {"alias": "ainfera-auto"})
    assert a.registry.get_sample_value(*sample) == 1
    assert b.registry.get_sample_value(*sample) is None
