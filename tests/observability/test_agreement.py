"""Metric values agree with the database (BRIEF §3, §4): calls counted = outcome rows written, per backend and
outcome; alias hits counted = outcome rows that named the alias."""

from __future__ import annotations

import time
from collections import Counter

import httpx

from reference_server.models_catalog import LEGACY_ALIASES
from reference_server.upstream.scripted import DIRECTIVE_HEADER
from tests.observability.gateways import Gateway
from tests.observability.support import db_rows, scrape

AUTH = {"x-api-key": "sk-test-obs-client-0123456789"}
TOOL = {"name": "lookup", "description": "look something up", "input_schema": {"type": "object"}}


def body(model: str = "ainfera-inference", **extra: object) -> dict[str, object]:
    return {"model": model, "max_tokens": 32, "messages": [{"role": "user", "content": "hi"}], **extra}


def wait_for_rows(gw: Gateway, expected: int) -> int:
    """A client that hangs up mid-stream is captured after it left: wait (bounded) for its row."""
    deadline = time.monotonic() + 10
    while True:
        [(n,)] = db_rows(gw.db_path, "SELECT count(*) FROM routing_outcomes")
        if n >= expected or time.monotonic() > deadline:
            return int(n)
        time.sleep(0.02)


def test_provider_and_alias_counters_agree_with_outcome_rows(fresh_gateway: Gateway) -> None:
    """After calls on every outcome path (ok, upstream error before and after the first byte, a client that
    hangs up mid-stream, a refusal), on several backends, some naming aliases, ainfera_provider_calls_total
    per (provider, outcome) equals the routing_outcomes rows per (backend, outcome), and
    ainfera_router_alias_hit_total per alias equals the rows whose model_requested is that alias."""
    gw = fresh_gateway
    aliases = sorted(LEGACY_ALIASES)
    calls = 0
    with httpx.Client(base_url=gw.url, headers=AUTH, timeout=30) as c:
        for i, alias in enumerate([*aliases, *aliases[:2], "ainfera-inference", "ainfera-inference"]):
            backend = ["anthropic", "openai", "mistral"][i % 3]
            r = c.post(
                "/v1/messages", json=body(alias, stream=bool(i % 2)), headers={"x-ainfera-backend": backend}
            )
            assert r.status_code == 200
            calls += 1
        r = c.post("/v1/chat/completions", json=body(aliases[0]), headers={"x-ainfera-backend": "groq"})
        assert r.status_code == 200
        calls += 1
        assert c.post("/v1/messages", json=body(), headers={DIRECTIVE_HEADER: "error=529"}).status_code == 529
        calls += 1
        dropped = c.post(
            "/v1/messages", json=body(stream=True), headers={DIRECTIVE_HEADER: "text_tokens=30; drop_after=3"}
        )
        assert dropped.status_code == 200 and "event: error" in dropped.text
        calls += 1
        refused = c.post("/v1/messages", json=body(tools=[TOOL]), headers={"x-ainfera-backend": "together"})
        assert refused.status_code == 422
        calls += 1
        with c.stream(
            "POST",
            "/v1/messages",
            json=body(stream=True),
            headers={DIRECTIVE_HEADER: "text_tokens=400; latency_ms=20"},
        ) as streaming:
            next(streaming.iter_bytes())  # first bytes, then hang up
        calls += 1
    assert wait_for_rows(gw, calls) == calls

    rows = db_rows(gw.db_path, "SELECT backend, outcome, model_requested FROM routing_outcomes")
    by_outcome = Counter((backend, outcome) for backend, outcome, _ in rows)
    by_alias = Counter(model for _, _, model in rows if model in LEGACY_ALIASES)
    assert {o for _, o in by_outcome} == {"ok", "upstream_error", "client_cancelled", "refused"}

    s = scrape(gw.url)
    counted = {
        (labels["provider"], labels["outcome"]): value
        for name, labels, value in s.samples
        if name == "ainfera_provider_calls_total" and value
    }
    assert counted == dict(by_outcome)
    assert s.value("ainfera_provider_calls_total") == len(rows)
    hits = {labels["alias"]: v for n, labels, v in s.samples if n == "ainfera_router_alias_hit_total" and v}
    assert hits == dict(by_alias)
    [(max_seq,)] = db_rows(gw.db_path, "SELECT max(seq) FROM audit_events")
    assert s.value("ainfera_audit_chain_height") == max_seq == 2 * len(rows)
    assert s.value("ainfera_dispatch_without_capture_total") == 0


def test_each_alias_hit_counts_exactly_once(fresh_gateway: Gateway) -> None:
    """One request naming an alias moves that alias's counter by exactly one and no other alias's."""
    for alias in sorted(LEGACY_ALIASES):
        before = {
            a: scrape(fresh_gateway.url).value("ainfera_router_alias_hit_total", alias=a)
            for a in LEGACY_ALIASES
        }
        r = httpx.post(f"{fresh_gateway.url}/v1/messages", headers=AUTH, json=body(alias))
        assert r.status_code == 200
        after = {
            a: scrape(fresh_gateway.url).value("ainfera_router_alias_hit_total", alias=a)
            for a in LEGACY_ALIASES
        }
        assert {a: after[a] - before[a] for a in LEGACY_ALIASES} == {
            a: float(a == alias) for a in LEGACY_ALIASES
        }
