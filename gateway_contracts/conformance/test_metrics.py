"""Metrics profile: the endpoint behind its key, strict exposition, label rules (BRIEF §4); the seed's series,
their agreement with its database and the alias counter are the ``ainfera`` profile's (MET-003, 007-009).

The endpoint's path and auth style are the target's (``[metrics]``); the rules are ``contracts/metrics-rules.yaml``.
"""

from __future__ import annotations

import re
import secrets

import pytest

from contracts import load_yaml
from contracts.metrics_rules import label_violations, metrics_rules
from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.metrics import fetch, scrape
from gateway_contracts.conformance.requests import AINFERA, SCRIPT
from gateway_contracts.failures import Blocked
from gateway_contracts.target import Target

pytestmark = pytest.mark.needs("metrics")
RULES = load_yaml("metrics-rules.yaml")
SERIES: dict[str, str] = AINFERA["series"]
FRESH_CALLS = 12
"""Calls each carrying fresh ids, for MET-010: a label that gains a value per call grows by this much."""


def traffic(gw: Exchanges) -> None:
    """A few ordinary calls on what the target serves, so that the call series exist."""
    if "messages" in gw.target.surfaces:
        gw.post("/v1/messages", gw.message())
        gw.post("/v1/messages", gw.message(stream=True))
    if "chat-completions" in gw.target.surfaces:
        gw.post("/v1/chat/completions", gw.chat())


@pytest.mark.clause("MET-001")
@pytest.mark.needs("metrics-keyed")
@pytest.mark.parametrize("sent", [None, "wrong-key", ""])
def test_key_required(gw: Exchanges, sent: str | None) -> None:
    # Through a redirect, as the label clauses go: that there is one is MET-011's finding, not this clause's.
    status, _ctype, text, _redirects = fetch(gw, sent, keyed=sent is not None)
    assert status == 401, f"{gw.target.metrics_path} answered {status} without the right key"
    assert "# TYPE" not in text and "# HELP" not in text, "the exposition leaked with the 401"


@pytest.mark.clause("MET-002")
def test_exposition_parses_strictly(gw: Exchanges) -> None:
    traffic(gw)
    s = scrape(gw)
    assert s.samples
    # Histogram buckets are cumulative: counts never decrease as le grows, and +Inf equals _count.
    for family, kind in s.families.items():
        if kind != "histogram":
            continue
        series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        for smp in s.samples:
            if smp.name == f"{family}_bucket":
                rest = tuple(sorted((k, v) for k, v in smp.labels.items() if k != "le"))
                series.setdefault(rest, []).append((float(smp.labels["le"]), smp.value))
        for buckets in series.values():
            counts = [c for _, c in sorted(buckets)]
            assert counts == sorted(counts), f"{family}: buckets not cumulative"


@pytest.mark.clause("MET-003")
def test_required_series(gw: Exchanges) -> None:
    s = scrape(gw)
    missing = [name for name in RULES["required_families"] if name not in s.families]
    assert not missing, f"missing series: {missing}"


@pytest.mark.clause("MET-004")
def test_no_identity_labels(gw: Exchanges) -> None:
    ident = secrets.token_hex(6)
    headers = {name: f"{name.rsplit('-', 2)[-2]}-{ident}" for name in RULES["probe_identity_headers"]}
    if "messages" in gw.target.surfaces:
        gw.post("/v1/messages", gw.message(metadata={"user_id": f"user-{ident}"}), headers)
    gw.get(f"/v1/audit/req_{ident}{ident}{ident}", headers=headers)
    gw.get(f"/tenants/tenant-{ident}/agents/agent-{ident}", headers=headers)
    s = scrape(gw)
    forbidden = set(RULES["forbidden_labels"])
    bad_names = {k for smp in s.samples for k in smp.labels if k.lower() in forbidden}
    assert not bad_names, f"identity label names: {bad_names}"
    path_label = metrics_rules().path_label  # a raw path carrying the id is MET-005's finding
    leaked = [smp for smp in s.samples if any(ident in v for k, v in smp.labels.items() if k != path_label)]
    assert not leaked, f"an id sent in the request is a label value: {leaked[0]}"


def _allowed_paths(target: Target) -> set[str] | None:
    """The path values a gateway may report: its declared route templates and the fold values (None when the
    target declares no templates: only the shape of a template can be checked then)."""
    if not target.route_templates:
        return None
    rules = metrics_rules()
    return {*target.route_templates, rules.path_unmatched, rules.path_overflow}


@pytest.mark.clause("MET-005")
def test_path_label_is_template_and_capped(gw: Exchanges, target: Target) -> None:
    marker = secrets.token_hex(4)
    for i in range(RULES["max_paths"] + 30):
        gw.get(f"/probe-{marker}/{secrets.token_hex(4)}/{i}")
    gw.get(f"/v1/audit/req_{secrets.token_hex(12)}")
    gw.get(f"/v1/models/{marker}?model={marker}")
    s = scrape(gw)
    paths = s.label_values(metrics_rules().path_label)
    assert len(paths) <= RULES["max_paths"], f"{len(paths)} distinct path values"
    allowed = _allowed_paths(target)
    if allowed is not None:
        stray = sorted(p for p in paths if p not in allowed)
        assert not stray, f"path values that are not route templates nor fold values: {stray[:5]}"
    rules = metrics_rules()
    shaped = [
        p
        for p in paths
        if p not in (rules.path_unmatched, rules.path_overflow)
        and (not rules.path_template.match(p) or marker in p or re.search(r"req_[0-9a-f]{24}", p))
    ]
    assert not shaped, f"raw paths in labels: {shaped[:5]}"


@pytest.mark.clause("MET-006")
def test_counters_only_grow(gw: Exchanges) -> None:
    # More traffic before the first scrape than between the two: a counter that resets (on a scrape, say) then
    # has something to lose, and shows it as a smaller value or a vanished series.
    traffic(gw)
    gw.get("/v1/models")
    before = scrape(gw)
    traffic(gw)
    after = scrape(gw)
    counters = {f for f, kind in before.families.items() if kind == "counter"}
    old = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for s in before.samples
        if _family(s.name, counters)
    }
    new = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for s in after.samples if _family(s.name, counters)
    }
    shrunk = [k for k, v in old.items() if new.get(k, -1) < v]
    assert not shrunk, f"counters that decreased or vanished: {shrunk[:5]}"


def _family(sample_name: str, families: set[str]) -> bool:
    return any(sample_name == f or sample_name == f"{f}_total" for f in families)


@pytest.mark.clause("MET-007")
@pytest.mark.needs("db", "scripted-upstream")
def test_metrics_agree_with_database(gw: Exchanges, db: CaptureDB) -> None:
    # Deltas, not totals: a long-running gateway's counters restart with the process, its rows do not.
    rows_sql = "SELECT count(*) FROM routing_outcomes WHERE outcome <> 'refused'"
    before, rows_before = scrape(gw), db.scalar(rows_sql)
    gw.post("/v1/messages", gw.message())
    gw.post("/v1/messages", gw.message(stream=True))
    gw.post("/v1/messages", gw.message(), {SCRIPT: "error=529"})
    after, rows_after = scrape(gw), db.scalar(rows_sql)
    counted = after.value(SERIES["provider_calls"]) - before.value(SERIES["provider_calls"])
    assert counted == rows_after - rows_before == 3, (
        f"provider calls counted {counted}, rows {rows_after - rows_before}"
    )
    assert after.value(SERIES["audit_chain_height"]) == db.scalar("SELECT max(seq) FROM audit_events")


@pytest.mark.clause("MET-008")
@pytest.mark.needs("aliases")
@pytest.mark.parametrize("slot", range(3))
def test_alias_counter_exactly_one(gw: Exchanges, target: Target, slot: int) -> None:
    if slot >= len(target.aliases):
        pytest.skip(f"the target declares {len(target.aliases)} alias(es)")
    alias = target.aliases[slot]
    before = scrape(gw).value(SERIES["alias_hits"], alias=alias)
    r = gw.post("/v1/messages", gw.message(model=alias))
    if r.status_code != 200:
        raise Blocked("ALIAS-001", f"the alias {alias} was refused ({r.status_code})")
    after = scrape(gw).value(SERIES["alias_hits"], alias=alias)
    assert after - before == 1


@pytest.mark.clause("MET-009")
@pytest.mark.needs("scripted-upstream")
def test_dispatch_without_capture_stays_zero(gw: Exchanges) -> None:
    gw.post("/v1/messages", gw.message(stream=True), {SCRIPT: "text_tokens=20; drop_after=2"})
    gw.post("/v1/messages", gw.message(), {SCRIPT: "error=500"})
    s = scrape(gw)
    assert SERIES["dispatch_without_capture_family"] in s.families
    assert s.value(SERIES["dispatch_without_capture"]) == 0


@pytest.mark.clause("MET-010")
def test_every_label_bounded(gw: Exchanges) -> None:
    before = scrape(gw)
    for _ in range(FRESH_CALLS):
        fresh = secrets.token_hex(8)
        headers = {"x-request-id": f"r-{fresh}", "x-session-id": f"s-{fresh}", "x-org-id": f"o-{fresh}"}
        if "messages" in gw.target.surfaces:
            gw.post("/v1/messages", gw.message(metadata={"user_id": f"u-{fresh}"}), headers)
        gw.get(f"/v1/models/{fresh}?trace={fresh}", headers=headers)
    after = scrape(gw)
    grown = []
    for label in {k for smp in after.samples for k in smp.labels} - {
        "le",
        "quantile",
        metrics_rules().path_label,
    }:
        gained = len(after.label_values(label) - before.label_values(label))
        if gained >= FRESH_CALLS:
            grown.append(f"{label} (+{gained} values over {FRESH_CALLS} calls)")
    assert not grown, f"labels that take a new value per call: {grown}"
    # The identity patterns on values (label *names* are MET-004's, path values MET-005's).
    problems = [
        p for p in label_violations((s.name, s.labels) for s in after.samples) if "looks like a raw" in p
    ]
    assert not problems, "; ".join(problems[:5])


@pytest.mark.clause("MET-011")
def test_metrics_answer_in_place(gw: Exchanges) -> None:
    _status, _ctype, _text, redirects = fetch(gw)
    assert not redirects, f"{gw.target.metrics_path} redirects: {redirects}"
