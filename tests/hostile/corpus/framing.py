"""Framing cases: request lines, headers, lengths and chunking that are wrong; and slow senders."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

from tests.hostile.corpus.case import KEY, Case, messages_body
from tests.hostile.support import SECRET


def framing_cases() -> Iterator[Case]:
    secret = SECRET.encode()
    faults = {
        "cr": secret + b"\rX",
        "nul": secret + b"\x00X",
        "fold": b"a\r\n " + secret,
        "long": secret + b"a" * 9000,
        "lf-only": secret + b"\nX",
        "del": secret + b"\x7f",
    }
    header_names = [b"x-api-key", b"authorization", b"x-upstream-script", b"x-secret", b"traceparent"]
    routes = [b"POST /v1/messages", b"GET /v1/models", b"POST /v1/chat/completions"]
    for (fault, value), name, route in itertools.product(faults.items(), header_names, routes):
        raw = (
            route
            + b" HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n"
            + name
            + b": "
            + value
            + b"\r\n\r\n"
        )
        yield Case(f"framing/header-{fault}/{name.decode()}/{route.decode()}", "framing", raw)
    for byte, where in itertools.product([*range(0x00, 0x20), 0x7F], ["path", "query"]):
        target = (
            b"/v1/models?key=" + secret + bytes([byte])
            if where == "query"
            else b"/v1/" + secret + bytes([byte])
        )
        raw = b"GET " + target + b" HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n"
        yield Case(f"framing/url-byte-{byte:02x}/{where}", "framing", raw)
    bad_lines = {
        "bad-method": b"P\x00ST /v1/messages HTTP/1.1",
        "bad-version": b"GET /v1/models HTTP/9.9",
        "no-version": b"GET /v1/models",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        "absolute-uri": b"GET http://" + secret + b"@evil/v1/models HTTP/1.1",
        "long-target": b"GET /" + secret + b"x" * 9000 + b" HTTP/1.1",
        "space-in-target": b"GET /v1/models?a=" + secret + b" b HTTP/1.1",
    }
    for label, line in bad_lines.items():
        yield Case(
            f"framing/line-{label}", "framing", line + b"\r\nHost: gateway\r\nConnection: close\r\n\r\n"
        )
    body = json.dumps(messages_body()).encode()
    head = b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nx-api-key: " + KEY.encode()
    head += b"\r\ncontent-type: application/json\r\n"
    length_faults = {
        "cl-and-te": b"content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n" + b"zz" + secret,
        "two-cl": b"content-length: 5\r\ncontent-length: 7\r\n\r\n" + body,
        "negative-cl": b"content-length: -1\r\n\r\n" + body,
        "text-cl": b"content-length: " + secret + b"\r\n\r\n" + body,
        "bad-chunk-size": b"transfer-encoding: chunked\r\n\r\nzz" + secret + b"\r\n",
        "chunk-ext-junk": b"transfer-encoding: chunked\r\n\r\n5;" + secret + b"\x00\r\nhello\r\n0\r\n\r\n",
        "te-unknown": b"transfer-encoding: " + secret + b"\r\n\r\n" + body,
        "short-chunk": b"transfer-encoding: chunked\r\n\r\nff\r\n" + body[:10] + b"\r\n0\r\n\r\n",
        "gzip-lie": b"content-encoding: gzip\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body,
    }
    for label, tail in length_faults.items():
        yield Case(f"framing/body-{label}", "framing", head + tail)
    many_headers = b"".join(b"x-h%d: %s\r\n" % (i, secret) for i in range(200))
    yield Case(
        "framing/too-many-headers",
        "framing",
        b"GET /v1/models HTTP/1.1\r\nHost: g\r\n" + many_headers + b"\r\n",
    )


def slow_cases() -> Iterator[Case]:
    partial_heads = [
        b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n",
        b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nx-api-key: " + SECRET.encode(),
        b"GET /v1/mod",
        b"",
    ]
    for index, head in enumerate(partial_heads):
        yield Case(f"slow/partial-head-{index}", "slow", head, slow=True)
    body = json.dumps(messages_body()).encode()
    for index, sent in enumerate([0, 1, len(body) // 2, len(body) - 1]):
        raw = (
            b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nx-api-key: " + KEY.encode()
            + b"\r\ncontent-type: application/json\r\ncontent-length: " + str(len(body)).encode()
            + b"\r\n\r\n" + body[:sent]
        )  # fmt: skip
        yield Case(f"slow/short-body-{index}", "slow", raw, slow=True)
    chunked = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nx-api-key: " + KEY.encode()
        + b"\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{\"mod\r\n"
    )  # fmt: skip
    yield Case("slow/unfinished-chunked", "slow", chunked, slow=True)
