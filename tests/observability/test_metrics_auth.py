"""/metrics behind X-Ainfera-Internal-Key (BRIEF §4): 401 without the right key, and not one database session
opened by a rejected scrape. The seed's endpoint opened its session before checking the key; these tests fail
if the check moves after any database work."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reference_server.observability.endpoint import internal_key_matches
from tests.observability.gateways import Gateway, start
from tests.observability.support import INTERNAL_KEY, KEY_HEADER, scrape
from tests.support.servers import ServerThread

WRONG_KEYS = [None, "", "wrong", INTERNAL_KEY[:-1], INTERNAL_KEY + "x", INTERNAL_KEY.upper(), "ключ"]


@pytest.mark.parametrize("sent", WRONG_KEYS)
def test_wrong_or_missing_key_is_401_anthropic_envelope(gateway: Gateway, sent: str | None) -> None:
    """A missing, empty, truncated, extended, re-cased or non-ASCII key gets 401 authentication_error in the
    Anthropic envelope, and no exposition."""
    headers = {} if sent is None else {KEY_HEADER.encode(): sent.encode()}
    r = httpx.get(f"{gateway.url}/metrics", headers=headers)
    assert r.status_code == 401
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"
    assert "ainfera_" not in r.text
    assert r.headers["request-id"] == body["request_id"]


def test_rejected_scrapes_open_no_database_session(fresh_gateway: Gateway) -> None:
    """ORDER: the key is checked before any database work. The store's session counter does not move across
    rejected scrapes; had the chain-head read (or anything else opening a session) moved before the key
    check, every one of these would have opened a connection."""
    store = fresh_gateway.store
    before = store.open_sessions
    for sent in WRONG_KEYS * 3:
        headers = {} if sent is None else {KEY_HEADER.encode(): sent.encode()}
        assert httpx.get(f"{fresh_gateway.url}/metrics", headers=headers).status_code == 401
    assert store.open_sessions == before


def test_rejected_scrapes_seen_from_outside(fresh_gateway: Gateway) -> None:
    """ORDER, black-box: between two accepted scrapes, 20 rejected ones leave
    ainfera_db_connections_opened_total moving by exactly 1 (the second accepted scrape's own read)."""
    first = scrape(fresh_gateway.url).value("ainfera_db_connections_opened_total")
    for _ in range(20):
        assert httpx.get(f"{fresh_gateway.url}/metrics", headers={KEY_HEADER: "nope"}).status_code == 401
    second = scrape(fresh_gateway.url).value("ainfera_db_connections_opened_total")
    assert second - first == 1


def test_accepted_scrape_reads_the_chain_once(fresh_gateway: Gateway) -> None:
    """An accepted scrape opens exactly one session: the read-only chain-head query, its only database access."""
    store = fresh_gateway.store
    before = store.open_sessions
    scrape(fresh_gateway.url)
    assert store.open_sessions == before + 1


def test_without_configured_key_metrics_is_closed(tmp_path: Path, upstream: ServerThread) -> None:
    """A gateway started without --internal-key answers 401 to every scrape (no key can be right), says why,
    and opens no session; an empty configured key counts as none."""
    for configured in (None, ""):
        gw = start(tmp_path / f"k{configured!r}", upstream, internal_key=configured)
        try:
            before = gw.store.open_sessions
            for sent in ("", "anything", INTERNAL_KEY):
                r = httpx.get(f"{gw.url}/metrics", headers={KEY_HEADER: sent})
                assert r.status_code == 401
                assert "without an internal key" in r.json()["error"]["message"]
            assert gw.store.open_sessions == before
        finally:
            gw.server.stop()


def test_key_comparison() -> None:
    """internal_key_matches: exact match only; None or empty configured keys match nothing."""
    assert internal_key_matches("k", "k")
    assert not internal_key_matches("k ", "k")
    assert not internal_key_matches(None, "k")
    assert not internal_key_matches("", "")
    assert not internal_key_matches("k", None)
    assert not internal_key_matches("\udcff", "k")  # undecodable header bytes compare, they do not raise
