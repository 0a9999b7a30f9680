"""The gateway's Prometheus metrics, on a registry of its own (never the process-global one: two gateways in one
process, as in the tests, must not share counters).

Label rules (``contracts/metrics-rules.yaml``): no identity and no unbounded value in any label. ``path`` is the
route template the request matched, never the raw path; unmatched requests and templates past the cap fold into
fixed values. ``method`` folds anything outside the standard methods. ``provider`` is a configured backend slug,
``outcome`` one of four capture outcomes, ``alias`` one of the legacy aliases: all bounded by construction.

What a scrape reads from elsewhere (the audit chain, the kill-switch, the capture counters) arrives as a
:class:`ScrapeSnapshot` that the endpoint builds after the key check; :class:`ScrapeCollector` turns it into
metric families for that one scrape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from contracts.metrics_rules import MetricsRules, metrics_rules
from reference_server.capture.types import CallRecord, KillSwitchState
from reference_server.mutants import mutated

HTTP_DURATION_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    20.0,
    30.0,
    60.0,
    120.0,
    300.0,
)
"""Seconds. Reaches minutes: a streamed call holds its request open for the whole generation."""
CALL_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (
    0.05,
    0.1,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    7.5,
    10.0,
    15.0,
    20.0,
    30.0,
    45.0,
    60.0,
)
"""Seconds to the first content delta: tens of seconds for large prompts and reasoning models."""
TOKEN_BUCKETS = (
    1.0, 16.0, 64.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0, 16384.0, 32768.0, 65536.0, 131072.0,
    262144.0, 524288.0, 1048576.0,
)  # fmt: skip
"""Tokens per call, input or output: from one token to a million-token context, doubling where calls cluster."""

OUTCOMES = ("ok", "upstream_error", "client_cancelled", "refused")


class PathLabels:
    """Route template → ``path`` label value, with at most ``cap`` distinct values (the fold values included).

    Only templates the router knows can get here, so the cap is a guard against a router with dynamic
    registrations, not the first line of defence: raw paths never become labels at all.
    """

    def __init__(self, rules: MetricsRules) -> None:
        self.unmatched = rules.path_unmatched
        self.overflow = rules.path_overflow
        self._room = rules.path_cap - 2  # both fold values may appear too
        self._seen: set[str] = set()

    def label(self, template: str | None) -> str:
        if template is None:
            return self.unmatched
        if template in self._seen:
            return template
        if len(self._seen) >= self._room:
            return self.overflow
        self._seen.add(template)
        return template


@dataclass(frozen=True)
class ScrapeSnapshot:
    """What one scrape reads besides the registry, taken after the internal-key check."""

    chain_height: int | None
    """max(seq) of the audit chain; None when it could not be read."""
    chain_newest_epoch: float | None
    """max(created_at) of the audit chain, in epoch seconds; None when empty or unreadable."""
    chain_read_ok: bool
    kill_switch: KillSwitchState
    dispatch_without_capture: int
    db_connections_opened: int | None
    now_epoch: float


class ScrapeCollector(Collector):
    """The per-scrape families: audit chain gauges, kill-switch gauges, capture counters."""

    def __init__(self, snapshot: ScrapeSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        if s.chain_height is not None:
            yield GaugeMetricFamily(
                "ainfera_audit_chain_height",
                "Audit chain height: max(seq) of audit_events.",
                value=s.chain_height,
            )
        # NaN when the chain is empty (or unreadable): no event, no age. An alert on staleness then stays quiet
        # on a fresh gateway instead of firing on a made-up number.
        newest = s.chain_newest_epoch
        yield GaugeMetricFamily(
            "ainfera_audit_chain_freshness_seconds",
            "Seconds since the newest audit event (max(created_at)); NaN when there is none.",
            value=max(0.0, s.now_epoch - newest) if newest is not None else math.nan,
        )
        yield GaugeMetricFamily(
            "ainfera_audit_chain_last_event_timestamp_seconds",
            "Unix time of the newest audit event; NaN when there is none.",
            value=newest if newest is not None else math.nan,
        )
        yield GaugeMetricFamily(
            "ainfera_audit_chain_read_ok",
            "1 when this scrape could read the audit chain head, else 0.",
            value=1.0 if s.chain_read_ok else 0.0,
        )
        ks = s.kill_switch
        yield GaugeMetricFamily(
            "ainfera_cost_killswitch_engaged",
            "1 while the cost kill-switch refuses calls.",
            value=float(ks.engaged),
        )
        yield GaugeMetricFamily(
            "ainfera_cost_killswitch_spent_usd",
            "Committed spending counted by the kill-switch, USD.",
            value=ks.spent_usd,
        )
        if ks.threshold_usd is not None or not mutated("metrics-threshold-only-when-set"):
            yield GaugeMetricFamily(
                "ainfera_cost_killswitch_threshold_usd",
                "Kill-switch threshold, USD; +Inf when no threshold is set.",
                value=ks.threshold_usd if ks.threshold_usd is not None else math.inf,
            )
        yield CounterMetricFamily(
            "ainfera_dispatch_without_capture",
            "Upstream dispatches whose capture (outcome row, audit events, ledger debit) failed. 0 when correct.",
            value=s.dispatch_without_capture,
        )
        if s.db_connections_opened is not None:
            yield CounterMetricFamily(
                "ainfera_db_connections_opened",
                "Database connections the capture store has opened. A rejected /metrics scrape opens none.",
                value=s.db_connections_opened,
            )


class _ScrapeView(Collector):
    """The registry plus one scrape's collector, as the single collector an encoder expects."""

    def __init__(self, *parts: Collector) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


@dataclass(frozen=True, slots=True)
class _CallChildren:
    """The labelled children one routed call updates."""

    calls: Any
    duration: Any
    input_tokens: Any
    output_tokens: Any
    ttft: Any


class GatewayMetrics:
    def __init__(
        self,
        *,
        version: str,
        providers: Iterable[str] = (),
        aliases: Iterable[str] = (),
        rules: MetricsRules | None = None,
        process_metrics: bool = True,
    ) -> None:
        self.rules = rules or metrics_rules()
        self.registry = CollectorRegistry()
        self.paths = PathLabels(self.rules)
        method_rule = self.rules.values["method"]
        self._methods = method_rule.allowed or frozenset()
        self._method_other = method_rule.other or "__other__"
        r = self.registry
        self.agent_label = mutated("metrics-agent-label")
        self.client_label = mutated("metrics-client-label")
        self.http_requests = Counter(
            "ainfera_http_requests",
            "HTTP requests answered.",
            [
                "method",
                "path",
                "status",
                *(["agent"] if self.agent_label else []),
                *(["client"] if self.client_label else []),
            ],
            registry=r,
        )
        self.http_duration = Histogram(
            "ainfera_http_request_duration_seconds",
            "Time from request to the end of the response (the whole stream for streamed calls).",
            ["method", "path"],
            buckets=HTTP_DURATION_BUCKETS,
            registry=r,
        )
        self.provider_calls = Counter(
            "ainfera_provider_calls",
            "Routed calls captured, by backend and outcome.",
            ["provider", "outcome"],
            registry=r,
        )
        self.call_duration = Histogram(
            "ainfera_provider_call_duration_seconds",
            "Routed call latency, admission to capture.",
            ["provider", "outcome"],
            buckets=CALL_DURATION_BUCKETS,
            registry=r,
        )
        self.tokens = Histogram(
            "ainfera_provider_call_tokens",
            "Tokens per dispatched call, input and output.",
            ["provider", "direction"],
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "ainfera_provider_time_to_first_token_seconds",
            "Time to the first content delta (to the whole answer for a non-streamed call).",
            ["provider", "stream_mode"],
            buckets=TTFT_BUCKETS,
            registry=r,
        )
        self.alias_hits = Counter(
            "ainfera_router_alias_hit",
            "Requests naming a legacy model alias, by alias.",
            ["alias"],
            registry=r,
        )
        self._request_children: dict[tuple[str, str | None, int], tuple[Any, Any]] = {}
        self._call_children: dict[tuple[str, str, str], _CallChildren] = {}
        Info("ainfera_build", "Gateway build.", registry=r).info({"version": version})
        if process_metrics:
            ProcessCollector(registry=r)
        # Known label sets start at 0, so rate() works from the first call and absence means "not configured".
        for provider in providers:
            for outcome in OUTCOMES:
                self.provider_calls.labels(provider, outcome)
        for alias in aliases:
            self.alias_hits.labels(alias)

    # -- observations ----------------------------------------------------------------------------------------

    def method_label(self, method: str) -> str:
        upper = method.upper()
        return upper if upper in self._methods else self._method_other

    def observe_request(
        self, method: str, route_template: str | None, status: int, seconds: float, agent: str | None = None
    ) -> None:
        if self.agent_label or self.client_label:  # the label mutants: one more label, no cached children
            method_label, path = self.method_label(method), self.paths.label(route_template)
            self.http_requests.labels(method_label, path, str(status), agent or "anonymous").inc()
            self.http_duration.labels(method_label, path).observe(seconds)
            return
        # labels() costs a lock and a tuple per call; the labelled children are looked up once per label set
        # and kept. The key is bounded: folded method x route template (the router's) x status.
        key = (self.method_label(method), route_template, status)
        children = self._request_children.get(key)
        if children is None:
            method_label, path = key[0], self.paths.label(route_template)
            children = self._request_children[key] = (
                self.http_requests.labels(method_label, path, str(status)),
                self.http_duration.labels(method_label, path),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_call(self, record: CallRecord) -> None:
        """The CallFlow hook: called once per routed call, after its capture."""
        if record.outcome != "ok" and mutated("metrics-count-ok-only"):
            return
        if record.model_requested != record.model_canonical and mutated("alias-hit-counted-twice"):
            self.alias_hit(record.model_requested)
        # As for requests: the children are looked up once per (backend, outcome, stream mode) and kept. The key
        # is bounded by the configured backends x the four outcomes x the three stream modes.
        key = (record.backend, record.outcome, record.stream_mode)
        children = self._call_children.get(key)
        if children is None:
            backend, outcome, stream_mode = key
            children = self._call_children[key] = _CallChildren(
                calls=self.provider_calls.labels(backend, outcome),
                duration=self.call_duration.labels(backend, outcome),
                input_tokens=self.tokens.labels(backend, "input"),
                output_tokens=self.tokens.labels(backend, "output"),
                ttft=self.ttft.labels(backend, stream_mode),
            )
        children.calls.inc()
        children.duration.observe(record.latency_ms / 1000.0)
        if record.outcome != "refused":  # a refusal never reached a backend: no tokens to count
            children.input_tokens.observe(record.input_tokens)
            children.output_tokens.observe(record.output_tokens)
        if record.ttft_ms is not None:
            children.ttft.observe(record.ttft_ms / 1000.0)

    def alias_hit(self, alias: str) -> None:
        self.alias_hits.labels(alias).inc()

    # -- exposition ------------------------------------------------------------------------------------------

    def render(self, snapshot: ScrapeSnapshot, accept: str) -> tuple[bytes, str]:
        """The exposition for one scrape: OpenMetrics when the scraper accepts it, else text format 0.0.4."""
        encode, content_type = choose_encoder(accept)
        if mutated("metrics-text-as-openmetrics"):
            encode = generate_latest
        body = encode(_ScrapeView(self.registry, ScrapeCollector(snapshot)))
        if mutated("metrics-reset-on-scrape"):
            self.http_requests.clear()
            self.provider_calls.clear()
            self._request_children.clear()  # the cached children went with the clear
            self._call_children.clear()
        return body, content_type
