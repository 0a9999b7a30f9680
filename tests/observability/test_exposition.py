"""The exposition itself (BRIEF §4): strict OpenMetrics parse, promtool, the required families, cumulative
buckets, counters that only grow, gauges that match the database."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from contracts.metrics_rules import label_violations, metrics_rules
from reference_server.app import build_app
from reference_server.capture.store import CaptureError, SqlCaptureStore
from reference_server.capture.types import CallRecord, CaptureReceipt
from reference_server.config import GatewayConfig
from reference_server.upstream.scripted import DIRECTIVE_HEADER
from tests.observability.gateways import Gateway, start
from tests.observability.support import INTERNAL_KEY, db_rows, find_promtool, scrape
from tests.support.servers import ServerThread

AUTH = {"x-api-key": "sk-test-obs-client-0123456789"}
BODY = {"model": "ainfera-inference", "max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]}


def traffic(url: str) -> None:
    """Calls on every outcome path, both routes, both modes, and a few non-call requests."""
    with httpx.Client(base_url=url, headers=AUTH) as c:
        c.post("/v1/messages", json=BODY)
        c.post("/v1/messages", json={**BODY, "stream": True})
        c.post(
            "/v1/chat/completions",
            json={"model": "ainfera-inference", "messages": [{"role": "user", "content": "x"}]},
        )
        c.post("/v1/messages", json=BODY, headers={DIRECTIVE_HEADER: "error=529"})
        c.post(
            "/v1/messages",
            json={**BODY, "stream": True},
            headers={DIRECTIVE_HEADER: "text_tokens=20; drop_after=2"},
        )
        c.post("/v1/messages", json={**BODY, "model": "ainfera-auto"})
        c.get("/v1/models")
        c.get("/does/not/exist")
        c.request("PROPFIND", "/v1/models")  # a WebDAV method the HTTP parser accepts


def test_openmetrics_strict_parse_and_required_families(gateway: Gateway) -> None:
    """The OpenMetrics exposition parses under prometheus-client's strict parser (ending in # EOF) and has
    every family the contract requires."""
    traffic(gateway.url)
    s = scrape(gateway.url, openmetrics=True)
    assert s.content_type.startswith("application/openmetrics-text")
    assert s.text.endswith("# EOF\n")
    missing = [f for f in metrics_rules().required_families if f not in s.families]
    assert not missing
    assert s.families["ainfera_http_request_duration_seconds"] == "histogram"
    assert s.families["ainfera_provider_calls"] == "counter"
    assert s.families["ainfera_build"] == "info"


def test_text_format_for_other_scrapers(gateway: Gateway) -> None:
    """Without an OpenMetrics Accept header the gateway serves text format 0.0.4, which the text parser reads."""
    s = scrape(gateway.url, openmetrics=False)
    assert s.content_type.startswith("text/plain; version=0.0.4")
    assert "ainfera_http_requests_total" in {n for n, _, _ in s.samples}


def test_promtool_check_metrics(gateway: Gateway) -> None:
    """`promtool check metrics` (from the Debian prometheus package; .ci/run provides it) accepts a real scrape:
    no lint finding. Skipped locally without promtool; under CI a missing promtool fails."""
    promtool = find_promtool()
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but promtool is missing: .ci/run extracts it to .ci/cache/bin/promtool")
        pytest.skip("promtool not found (set PROMTOOL, put it on PATH, or run .ci/run once)")
    traffic(gateway.url)
    text = scrape(gateway.url, openmetrics=False).text
    done = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


def test_label_rules_hold(gateway: Gateway) -> None:
    """Every sample obeys contracts/metrics-rules.yaml: allowed label names per family, closed value sets, route
    templates only, no identity-looking value."""
    traffic(gateway.url)
    s = scrape(gateway.url)
    assert label_violations(s.pairs()) == []
    assert "__other__" in s.label_values("method")  # PROPFIND folded
    assert "__unmatched__" in s.label_values("path")


def test_histogram_buckets_cumulative(gateway: Gateway) -> None:
    """Every histogram's buckets are cumulative and end in +Inf equal to _count."""
    traffic(gateway.url)
    s = scrape(gateway.url)
    for family, kind in s.families.items():
        if kind != "histogram":
            continue
        series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        counts: dict[tuple[tuple[str, str], ...], float] = {}
        for name, labels, value in s.samples:
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            if name == f"{family}_bucket":
                series.setdefault(key, []).append((float(labels["le"]), value))
            elif name == f"{family}_count":
                counts[key] = value
        assert series, family
        for key, buckets in series.items():
            ordered = sorted(buckets)
            values = [v for _, v in ordered]
            assert values == sorted(values), f"{family}{key}: not cumulative"
            assert math.isinf(ordered[-1][0]) and ordered[-1][1] == counts[key]


def test_token_and_ttft_buckets_fit_llm_calls() -> None:
    """Token buckets reach a million-token context; time-to-first-token buckets reach tens of seconds."""
    from reference_server.observability.metrics import TOKEN_BUCKETS, TTFT_BUCKETS

    assert TOKEN_BUCKETS[0] <= 1 and TOKEN_BUCKETS[-1] >= 1_000_000
    assert TTFT_BUCKETS[0] <= 0.1 and TTFT_BUCKETS[-1] >= 30


def test_counters_only_grow(gateway: Gateway) -> None:
    """No counter sample decreases or disappears between scrapes, with traffic of every kind in between."""
    before = scrape(gateway.url)
    for _ in range(2):
        traffic(gateway.url)
    after = scrape(gateway.url)
    counters = {f for f, kind in before.families.items() if kind in ("counter", "histogram")}

    def counter_samples(s: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        assert hasattr(s, "samples")
        return {
            (n, tuple(sorted(lbl.items()))): v
            for n, lbl, v in s.samples
            if any(n in (f"{f}_total", f"{f}_bucket", f"{f}_count", f"{f}_sum") for f in counters)
        }

    old, new = counter_samples(before), counter_samples(after)
    shrunk = [k for k, v in old.items() if new.get(k, -1.0) < v]
    assert not shrunk
    assert sum(new.values()) > sum(old.values())


def test_chain_and_killswitch_gauges_match_the_database(gateway: Gateway) -> None:
    """The audit chain height equals max(seq), freshness is a small non-negative age, the kill-switch gauges
    show spending equal to the ledger's total and +Inf as threshold when none is set."""
    traffic(gateway.url)
    s = scrape(gateway.url)
    [(max_seq, total_nusd)] = db_rows(
        gateway.db_path,
        "SELECT (SELECT max(seq) FROM audit_events), (SELECT sum(amount_nusd) FROM ledger_entries)",
    )
    assert s.value("ainfera_audit_chain_height") == max_seq
    assert 0 <= s.value("ainfera_audit_chain_freshness_seconds") < 120
    assert s.value("ainfera_audit_chain_read_ok") == 1
    assert s.value("ainfera_cost_killswitch_engaged") == 0
    assert s.value("ainfera_cost_killswitch_spent_usd") == pytest.approx(total_nusd / 1e9)
    assert math.isinf(s.value("ainfera_cost_killswitch_threshold_usd"))
    assert s.value("ainfera_dispatch_without_capture_total") == 0
    assert s.value("ainfera_build_info", version=__import__("reference_server").__version__) == 1


def test_empty_chain_gauges(fresh_gateway: Gateway) -> None:
    """Before any call the chain height is 0 and its freshness is NaN (no event, no age), not a made-up number."""
    s = scrape(fresh_gateway.url)
    assert s.value("ainfera_audit_chain_height") == 0
    assert math.isnan(s.value("ainfera_audit_chain_freshness_seconds"))


def test_killswitch_gauges_when_engaged(tmp_path: Path, upstream: ServerThread) -> None:
    """A gateway whose kill-switch threshold is 0 shows it engaged, with its threshold, and counts the refused
    call as refused (never dispatched: no tokens observed)."""
    gw = start(tmp_path, upstream, kill_switch_usd=0.0)
    try:
        r = httpx.post(f"{gw.url}/v1/messages", headers=AUTH, json=BODY)
        assert r.status_code == 403
        s = scrape(gw.url)
        assert s.value("ainfera_cost_killswitch_engaged") == 1
        assert s.value("ainfera_cost_killswitch_threshold_usd") == 0
        assert s.value("ainfera_provider_calls_total", outcome="refused") == 1
        assert s.value("ainfera_provider_call_tokens_count") == 0
    finally:
        gw.server.stop()


class FailingCapture(SqlCaptureStore):
    """A capture store whose writes fail: the dispatch happened, its capture did not."""

    async def record(self, call: CallRecord) -> CaptureReceipt:
        raise CaptureError("disk full")


def test_dispatch_without_capture_is_counted(tmp_path: Path, upstream: ServerThread) -> None:
    """ainfera_dispatch_without_capture_total counts a dispatched call whose capture failed (0 in a correct
    gateway, so this needs a broken store), and such a call is not counted as a provider call: no row exists."""
    db_url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    config = GatewayConfig(db_url=db_url, port=0, upstreams=[upstream.url], internal_key=INTERNAL_KEY)
    server = ServerThread(lambda: build_app(config, capture=FailingCapture(db_url))).start()
    try:
        r = httpx.post(f"{server.url}/v1/messages", headers=AUTH, json=BODY)
        assert r.status_code == 500
        s = scrape(server.url)
        assert s.value("ainfera_dispatch_without_capture_total") == 1
        assert s.value("ainfera_provider_calls_total") == 0
    finally:
        server.stop()
