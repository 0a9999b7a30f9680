"""Metrics profile: /metrics behind the internal key, strict exposition, label rules, agreement with the
database (BRIEF §4)."""

from __future__ import annotations

import re
import secrets

import pytest

from contracts import load_yaml
from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.metrics import KEY_HEADER, scrape
from gateway_contracts.conformance.requests import ALIASES, SCRIPT, message
from gateway_contracts.target import Target

RULES = load_yaml("metrics-rules.yaml")
RAW_ID = re.compile(r"[0-9a-f]{8,}|req_|tenant|user-|agent-")


def key(target: Target) -> str:
    assert target.internal_key, "the metrics profile needs --internal-key"
    return target.internal_key


@pytest.mark.clause("MET-001")
@pytest.mark.parametrize("sent", [None, "wrong-key", ""])
def test_key_required(gw: Exchanges, sent: str | None) -> None:
    headers = {} if sent is None else {KEY_HEADER: sent}
    r = gw.get("/metrics", headers=headers, auth=False)
    assert r.status_code == 401, f"/metrics answered {r.status_code} without the right key"
    assert "ainfera_" not in r.text, "the exposition leaked with the 401"


@pytest.mark.clause("MET-002")
def test_exposition_parses_strictly(gw: Exchanges, target: Target) -> None:
    gw.post("/v1/messages", message())
    s = scrape(gw, key(target))
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
def test_required_series(gw: Exchanges, target: Target) -> None:
    s = scrape(gw, key(target))
    names = set(s.families)
    missing = [name for name in RULES["required_families"] if name not in names]
    assert not missing, f"missing series: {missing}"


@pytest.mark.clause("MET-004")
def test_no_identity_labels(gw: Exchanges, target: Target) -> None:
    ident = secrets.token_hex(6)
    headers = {
        "x-tenant-id": f"tenant-{ident}",
        "x-ainfera-agent-id": f"agent-{ident}",
        "x-user-id": f"user-{ident}",
    }
    gw.post("/v1/messages", message(metadata={"user_id": f"user-{ident}"}), headers)
    gw.get(f"/v1/audit/req_{ident}{ident}{ident}{ident[:0]}", headers=headers)
    gw.get(f"/tenants/tenant-{ident}/agents/agent-{ident}", headers=headers)
    s = scrape(gw, key(target))
    forbidden = set(RULES["forbidden_labels"])
    bad_names = {k for smp in s.samples for k in smp.labels if k.lower() in forbidden}
    assert not bad_names, f"identity label names: {bad_names}"
    leaked = [smp for smp in s.samples if any(ident in v for v in smp.labels.values())]
    assert not leaked, f"an id sent in the request is a label value: {leaked[0]}"


@pytest.mark.clause("MET-005")
def test_path_label_is_template_and_capped(gw: Exchanges, target: Target) -> None:
    for i in range(RULES["max_paths"] + 30):
        gw.get(f"/probe/{secrets.token_hex(4)}/{i}")
    gw.get(f"/v1/audit/req_{secrets.token_hex(12)}")
    s = scrape(gw, key(target))
    paths = s.label_values("path")
    assert len(paths) <= RULES["max_paths"], f"{len(paths)} distinct path values"
    raw = [p for p in paths if "/probe/" in p or re.search(r"req_[0-9a-f]{24}", p)]
    assert not raw, f"raw paths in labels: {raw[:5]}"


@pytest.mark.clause("MET-006")
def test_counters_only_grow(gw: Exchanges, target: Target) -> None:
    # More traffic before the first scrape than between the two: a counter that resets (on a scrape, say) then
    # has something to lose, and shows it as a smaller value or a vanished series.
    gw.post("/v1/messages", message())
    gw.post("/v1/messages", message(stream=True))
    gw.get("/v1/models")
    before = scrape(gw, key(target))
    gw.post("/v1/messages", message())
    after = scrape(gw, key(target))
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
def test_metrics_agree_with_database(gw: Exchanges, target: Target, db: CaptureDB) -> None:
    # Deltas, not totals: a long-running gateway's counters restart with the process, its rows do not.
    rows_sql = "SELECT count(*) FROM routing_outcomes WHERE outcome <> 'refused'"
    before, rows_before = scrape(gw, key(target)), db.scalar(rows_sql)
    gw.post("/v1/messages", message())
    gw.post("/v1/messages", message(stream=True))
    gw.post("/v1/messages", message(), {SCRIPT: "error=529"})
    after, rows_after = scrape(gw, key(target)), db.scalar(rows_sql)
    counted = after.value("ainfera_provider_calls_total") - before.value("ainfera_provider_calls_total")
    assert counted == rows_after - rows_before == 3, (
        f"provider calls counted {counted}, rows {rows_after - rows_before}"
    )
    assert after.value("ainfera_audit_chain_height") == db.scalar("SELECT max(seq) FROM audit_events")


@pytest.mark.clause("MET-008")
@pytest.mark.parametrize("alias", ALIASES)
def test_alias_counter_exactly_one(gw: Exchanges, target: Target, alias: str) -> None:
    before = scrape(gw, key(target)).value("ainfera_router_alias_hit_total", alias=alias)
    assert gw.post("/v1/messages", message(model=alias)).status_code == 200
    after = scrape(gw, key(target)).value("ainfera_router_alias_hit_total", alias=alias)
    assert after - before == 1


@pytest.mark.clause("MET-009")
def test_dispatch_without_capture_stays_zero(gw: Exchanges, target: Target) -> None:
    gw.post("/v1/messages", message(stream=True), {SCRIPT: "text_tokens=20; drop_after=2"})
    gw.post("/v1/messages", message(), {SCRIPT: "error=500"})
    s = scrape(gw, key(target))
    assert "ainfera_dispatch_without_capture" in s.families
    assert s.value("ainfera_dispatch_without_capture_total") == 0
