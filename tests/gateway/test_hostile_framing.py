"""Hostile framing (issue 15): what aiohttp's HTTP parser refuses goes through the gateway's one error path, slow
senders are cut off, and a client that leaves mid-body is a client event."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hostile.support import SECRET, echoes, envelope_problems, raw_exchange, read_answer
from tests.support.gateway import start_gateway
from tests.support.servers import ServerThread

INTERNAL_KEY = "hostile-framing-internal-key"
TIMEOUT_S = 0.5
"""The gateway's header and body timeouts in these tests; reads wait at most ``WAIT_S`` for it to act."""
WAIT_S = 10.0

REFUSED_FRAMING = {
    "bare CR in a header": b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: "
    + SECRET.encode()
    + b"\rX\r\n\r\n",
    "NUL in a header": b"GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: "
    + SECRET.encode()
    + b"\x00z\r\n\r\n",
    "folded header line": b"GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n "
    + SECRET.encode()
    + b"\r\n\r\n",
    "header over 8190 bytes": b"GET /v1/models HTTP/1.1\r\nHost: x\r\nx-api-key: "
    + SECRET.encode()
    + b"a" * 9000
    + b"\r\n\r\n",
    "bad byte in the query": b"GET /v1/models?key=" + SECRET.encode() + b"\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad byte in the path": b"GET /v1/audit/" + SECRET.encode() + b"\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
    "broken chunked body": b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: "
    + SECRET.encode()
    + b"\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz"
    + SECRET.encode()
    + b"\r\n",
}


@pytest.fixture(scope="module")
def quick_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A gateway with short header and body timeouts, and /metrics open to ``INTERNAL_KEY``."""
    server = start_gateway(
        tmp_path_factory.mktemp("framing"),
        header_timeout_s=TIMEOUT_S,
        body_timeout_s=TIMEOUT_S,
        internal_key=INTERNAL_KEY,
    )
    yield server
    server.stop()


@pytest.mark.parametrize("data", list(REFUSED_FRAMING.values()), ids=list(REFUSED_FRAMING))
def test_parser_refusal_is_the_error_envelope_without_echo(gateway: ServerThread, data: bytes) -> None:
    answer = raw_exchange(gateway.port, data, timeout=WAIT_S)
    assert answer.status is not None and 400 <= answer.status < 500, answer.raw[:300]
    assert not envelope_problems(answer.status, answer.headers, answer.body), answer.raw[:300]
    assert answer.json()["request_id"] == answer.headers["request-id"]
    assert not echoes(answer.raw, SECRET), answer.raw[:300]


def test_parser_refusal_logs_the_fault_kind_not_the_line(
    gateway: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        raw_exchange(gateway.port, REFUSED_FRAMING["bare CR in a header"], timeout=WAIT_S)
    refused = [r for r in caplog.records if getattr(r, "event", None) == "http.parser_refused"]
    assert refused and all(r.levelno == logging.INFO and not r.exc_info for r in refused)
    assert not any(SECRET in r.getMessage() or SECRET in str(r.__dict__) for r in caplog.records)


def test_partial_headers_are_cut_off_after_the_header_timeout(quick_gateway: ServerThread) -> None:
    started = time.monotonic()
    answer = raw_exchange(quick_gateway.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nx-api-k", timeout=WAIT_S)
    assert answer.closed, "a connection that never finished its headers is still open"
    assert time.monotonic() - started < WAIT_S / 2


def test_trickled_headers_do_not_extend_the_header_timeout(quick_gateway: ServerThread) -> None:
    """A slow sender that keeps sending header bytes is cut off all the same."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", quick_gateway.port), timeout=WAIT_S) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for _ in range(200):  # bounded: ~one header line per 50 ms of waiting for the close
            try:
                sock.sendall(b"x-pad: 1\r\n")
            except OSError:
                closed = True
                break
            sock.settimeout(0.05)
            try:
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
    assert closed, "trickled header lines kept the connection open"
    assert time.monotonic() - started < WAIT_S


def test_short_body_gets_408_and_the_connection_closes(quick_gateway: ServerThread) -> None:
    head = (
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: "
        + SECRET.encode()
        + b"\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n"
    )
    answer = raw_exchange(quick_gateway.port, head + b'{"model": "', timeout=WAIT_S, until_close=True)
    assert answer.status == 408, answer.raw[:300]
    assert not envelope_problems(answer.status, answer.headers, answer.body)
    assert answer.closed and not echoes(answer.raw, SECRET)


def _metrics(server: ServerThread) -> str:
    return httpx.get(f"{server.url}/metrics", headers={"x-ainfera-internal-key": INTERNAL_KEY}).text


def _status_count(text: str, status: str) -> float:
    pattern = re.compile(
        r'^ainfera_http_requests_total\{[^}]*path="/v1/messages"[^}]*status="' + status + r'"[^}]*\} (\S+)$',
        re.M,
    )
    return sum(float(m) for m in pattern.findall(text))


def test_client_aborting_mid_body_is_a_client_event(
    quick_gateway: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    before = _metrics(quick_gateway)
    head = (
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: k\r\n"
        b"content-type: application/json\r\ncontent-length: 5000\r\n\r\n"
    )
    with caplog.at_level(logging.INFO):
        with socket.create_connection(("127.0.0.1", quick_gateway.port), timeout=WAIT_S) as sock:
            sock.sendall(head + b'{"model": "ainfera-inference", ')
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        deadline = time.monotonic() + WAIT_S
        while _status_count(_metrics(quick_gateway), "499") <= _status_count(before, "499"):
            assert time.monotonic() < deadline, "the aborted request was never counted"
    after = _metrics(quick_gateway)
    assert _status_count(after, "500") == _status_count(before, "500")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_gateway_answers_after_refusals(gateway: ServerThread, tmp_path: Path) -> None:
    for data in REFUSED_FRAMING.values():
        raw_exchange(gateway.port, data, timeout=WAIT_S)
    assert httpx.get(f"{gateway.url}/healthz").status_code == 200


def test_read_answer_sees_a_close(quick_gateway: ServerThread) -> None:
    """The helper itself: an idle connection is closed by the gateway after its header timeout."""
    with socket.create_connection(("127.0.0.1", quick_gateway.port), timeout=WAIT_S) as sock:
        assert read_answer(sock).closed
