"""Many calls to the gateway at once, for the capture clauses that hold under concurrency.

A mix of ordinary calls, streamed and not, some to the target's aliases, and some streams the client hangs up on
after the first delta. The calls are planned up front from a fixed seed (the same mix on every run) and made from
a pool of threads, each with its own client: up to ``IN_FLIGHT`` calls are in flight together. Threads, not an
event loop: httpx's async client spent about 5 ms of the harness's CPU per call here, four times the thread
pool's, and the mix took two to five times as long.
"""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from gateway_contracts.conformance.client import http_client
from gateway_contracts.conformance.requests import SCRIPT, message
from gateway_contracts.target import Target

IN_FLIGHT = 64


@dataclass(frozen=True)
class Plan:
    model: str
    stream: bool
    hang_up: bool


def plans(target: Target, calls: int, seed: int) -> list[Plan]:
    rng = random.Random(seed)
    out = []
    for _ in range(calls):
        model = rng.choice([target.messages_model, *target.aliases])
        stream = rng.random() < 0.5
        out.append(Plan(model, stream, stream and rng.random() < 0.15))
    return out


def mixed_calls(target: Target, calls: int, seed: int) -> list[str]:
    """Each call's request id, or "" when the gateway refused it (a refused call is no routed call: whether it
    should have been accepted is another clause's question, ALIAS-001's for an alias)."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = http_client(target)
            with lock:
                clients.append(local.client)
        c: httpx.Client = local.client
        return c

    def call(i: int, plan: Plan) -> str:
        return _call(client(), target, i, plan)

    todo = plans(target, calls, seed)
    try:
        with ThreadPoolExecutor(min(IN_FLIGHT, calls)) as pool:
            return list(pool.map(call, range(calls), todo))
    finally:
        for c in clients:
            c.close()


def _call(client: httpx.Client, target: Target, i: int, plan: Plan) -> str:
    body = message(model=plan.model, stream=plan.stream, max_tokens=40)
    headers = {
        **target.headers_for("/v1/messages"),
        **target.auth_headers(),
        "content-type": "application/json",
    }
    if "scripted-upstream" in target.features:
        slow = "text_tokens=40; chunk=1; latency_ms=10" if plan.hang_up else "text_tokens=20; chunk=2"
        headers[SCRIPT] = f"{slow}; seed={i}"
    with client.stream("POST", "/v1/messages", content=json.dumps(body), headers=headers) as r:
        request_id = (target.request_id(r) or "") if r.status_code == 200 else ""
        for line in r.iter_lines():
            if plan.hang_up and line.startswith("event: content_block_delta"):
                break
    return request_id
