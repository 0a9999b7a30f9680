"""Logs profile: JSON lines, required fields, no secret, no prompt content, alias events (BRIEF §5, §1)."""

from __future__ import annotations

import secrets

import pytest

from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.logs import lines_of, log_path
from gateway_contracts.failures import Blocked
from gateway_contracts.logs import line_count, read_lines
from gateway_contracts.target import Target

pytestmark = pytest.mark.needs("logs", "surface:messages")
REQUIRED = ("timestamp", "level", "logger", "message")


@pytest.mark.clause("LOG-001")
def test_every_line_is_json(gw: Exchanges, target: Target) -> None:
    gw.post("/v1/messages", gw.message())
    lines = read_lines(log_path(target))
    assert lines, "the log file is empty"
    bad = [ln for ln in lines if ln.raw.strip() and ln.record is None]
    assert not bad, f"{len(bad)} non-JSON line(s); first is line {bad[0].number}: {bad[0].raw[:120]!r}"


@pytest.mark.clause("LOG-002")
@pytest.mark.needs("request-id")
def test_required_fields(gw: Exchanges, target: Target) -> None:
    start = line_count(log_path(target))
    r = gw.post("/v1/messages", gw.message())
    mine = lines_of(target, gw.request_id(r), start)
    assert mine, "no log line carries the call's request id"
    all_lines = [ln for ln in read_lines(log_path(target)) if ln.record is not None]
    missing = [ln.number for ln in all_lines if ln.record and any(k not in ln.record for k in REQUIRED)]
    assert not missing, f"lines without {REQUIRED}: {missing[:10]}"
    if target.trace:
        assert all(ln.record and ln.record.get("trace_id") for ln in mine), (
            "a line of the call has no trace_id"
        )


@pytest.mark.clause("LOG-003")
@pytest.mark.needs("request-id")
def test_no_secret_in_logs(gw: Exchanges, target: Target) -> None:
    start = line_count(log_path(target))
    token = f"sk-ant-api03-{secrets.token_urlsafe(32)}"
    query_secret = secrets.token_hex(20)
    password = f"pw-{secrets.token_hex(12)}"
    gw.request(
        "POST", f"/v1/messages?api_key={query_secret}", json_body=gw.message(), headers={"x-api-key": token}
    )
    gw.request(
        "POST",
        "/v1/messages",
        json_body={**gw.message(), "metadata": {"password": password}},
        headers={"authorization": f"Bearer {token}"},
    )
    r = gw.request("GET", f"/v1/models?token={query_secret}", headers={"x-api-key": token})
    lines_of(target, gw.request_id(r), start)
    text = "\n".join(ln.raw for ln in read_lines(log_path(target), start))
    for secret in (token, query_secret, password):
        assert secret not in text, f"a secret the client sent is in the log: {secret[:12]}…"


@pytest.mark.clause("LOG-004")
@pytest.mark.needs("request-id")
def test_no_prompt_in_logs(gw: Exchanges, target: Target) -> None:
    start = line_count(log_path(target))
    canary = f"prompt-canary-{secrets.token_hex(8)}"
    body = gw.message(system=f"system {canary}")
    body["messages"] = [{"role": "user", "content": f"Please repeat {canary}"}]
    r = gw.post("/v1/messages", body)
    lines_of(target, gw.request_id(r), start)
    text = "\n".join(ln.raw for ln in read_lines(log_path(target), start))
    assert canary not in text, "prompt content reached the log"


@pytest.mark.clause("LOG-005")
@pytest.mark.needs("aliases", "request-id")
@pytest.mark.parametrize("slot", range(3))
def test_alias_hit_logged_once(gw: Exchanges, target: Target, slot: int) -> None:
    if slot >= len(target.aliases):
        pytest.skip(f"the target declares {len(target.aliases)} alias(es)")
    alias = target.aliases[slot]
    start = line_count(log_path(target))
    r = gw.post("/v1/messages", gw.message(model=alias))
    if r.status_code != 200:
        raise Blocked("ALIAS-001", f"the alias {alias} was refused ({r.status_code})")
    mine = lines_of(target, gw.request_id(r), start)
    hits = [ln for ln in mine if ln.record and alias in ln.record.values()]
    assert len(hits) == 1, f"{len(hits)} log events name the alias {alias} for this call"
