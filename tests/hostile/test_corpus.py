"""The hostile-input corpus (issue 15) against the reference gateway on SQLite and on PostgreSQL.

Every case of ``tests.hostile.corpus`` (generated, about 1,900) is sent as raw bytes, 16 at a time, to a gateway in
front of the scripted upstream over HTTP (so the real Anthropic-native and OpenAI-compatible adapters read the
hostile answers). Every answer must be the error envelope when it is an error, no 5xx unless it is the documented
answer to a hostile upstream, no planted secret may come back, slow senders are cut off, a ``/healthz`` probe on
a connection of its own answers within ``PROBE_BOUND_S`` throughout, and the gateway is healthy afterwards. The
counts are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.hostile.corpus import KEY, corpus
from tests.hostile.runner import SUMMARIES, Probe, judge, run_corpus
from tests.support.servers import ServerThread

CONCURRENCY = 16
TIMEOUT_S = 1.0
"""The corpus gateway's header and body timeouts (the defaults are 20 s and 30 s)."""
PROBE_BOUND_S = 2.0
MIN_CASES = 1000


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    server = ServerThread(build_upstream_app).start()
    yield server
    server.stop()


def run(db_url: str, upstream: ServerThread, label: str) -> Any:
    """Run the corpus against a fresh gateway on ``db_url``; the verdict (its asserts are inside, per kind)."""
    config = GatewayConfig(
        db_url=db_url,
        port=0,
        upstreams=[upstream.url],
        client_keys=(KEY,),
        header_timeout_s=TIMEOUT_S,
        body_timeout_s=TIMEOUT_S,
    )
    gateway = ServerThread(lambda: build_app(config)).start()
    try:
        cases = corpus()
        assert len(cases) >= MIN_CASES
        with Probe(gateway.url) as probe:
            results = asyncio.run(run_corpus("127.0.0.1", gateway.port, cases, CONCURRENCY))
        verdict = judge(results, slow_bound_s=TIMEOUT_S * 2 + 10.0)
        verdict.max_probe_s, verdict.probes = probe.max_s, probe.count
        print("\n" + verdict.summary(label))
        SUMMARIES.append(verdict.summary(label))
        slowest = sorted((r for r in results if not r.case.slow), key=lambda r: r.seconds, reverse=True)[:5]
        print("  slowest: " + ", ".join(f"{r.case.id} {r.seconds:.2f}s" for r in slowest))
        for kind in ("server_errors", "echoes", "stalls", "problems"):
            for line in getattr(verdict, kind)[:40]:
                print(f"  {kind}: {line}")
        assert probe.failures == 0, f"{probe.failures} /healthz probes failed"
        assert not verdict.server_errors, "\n".join(verdict.server_errors[:20])
        assert not verdict.echoes, "\n".join(verdict.echoes[:20])
        assert not verdict.stalls, "\n".join(verdict.stalls[:20])
        assert not verdict.problems, "\n".join(verdict.problems[:20])
        assert verdict.max_probe_s < PROBE_BOUND_S, f"/healthz took {verdict.max_probe_s:.2f}s at worst"
        # Healthy afterwards: it answers, and a normal call still succeeds.
        assert httpx.get(f"{gateway.url}/healthz").status_code == 200
        body = {"model": CANONICAL_MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
        r = httpx.post(f"{gateway.url}/v1/messages", json=body, headers={"x-api-key": KEY})
        assert r.status_code == 200, r.text[:300]
        return verdict
    finally:
        gateway.stop()


def _assert_clean(verdict: Any) -> None:
    assert not (verdict.server_errors or verdict.echoes or verdict.stalls or verdict.problems), (
        verdict.summary("")
    )
    assert verdict.probes > 0 and verdict.max_probe_s < PROBE_BOUND_S


def test_hostile_corpus_on_sqlite(upstream: ServerThread, tmp_path: Path) -> None:
    _assert_clean(run(f"sqlite:///{tmp_path / 'gateway.sqlite3'}", upstream, "sqlite"))


@pytest.mark.postgres
def test_hostile_corpus_on_postgres(upstream: ServerThread, pg_url: str) -> None:
    _assert_clean(run(pg_url, upstream, "postgresql"))
