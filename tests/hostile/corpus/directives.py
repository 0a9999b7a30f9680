"""Directive and id cases: bad ``X-Upstream-Script`` headers, and request and trace ids that are hostile."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

from tests.hostile.corpus.case import Case, chat_body, messages_body, post_json, request
from tests.hostile.support import SECRET


def directive_and_id_cases() -> Iterator[Case]:
    keys = ["text_tokens", "chunk", "latency_ms", "first_byte_ms", "error", "drop_after", "stop_sequence",
            "finish", "tool", "text_before_tool", "seed", "corrupt"]  # fmt: skip
    values = [
        SECRET,
        "",
        "-1",
        "9" * 40,
        "1e5",
        "%00",
        "%ZZ",
        "%E2%80%AE" + SECRET,
        "1;" + SECRET + "=2",
        "0x10",
    ]
    for key, value in itertools.product(keys, values):
        if key == "stop_sequence" and value not in ("", "%00"):
            continue  # a stop sequence the answer may legitimately report back
        for path, body in (("/v1/messages", messages_body()), ("/v1/chat/completions", chat_body())):
            route = path.rsplit("/", 1)[-1]
            headers = {"x-upstream-script": f"{key}={value}"}
            yield Case(
                f"directives/{route}/{key}/{values.index(value)}",
                "directives",
                post_json(path, body, headers),
            )
    for index, script in enumerate(
        [f"{SECRET}=1", SECRET, "seed=1; seed=2", ";;;;", "=", "a" * 8000, "text_tokens=1;" * 50]
    ):
        yield Case(
            f"directives/whole-{index}",
            "directives",
            post_json("/v1/messages", messages_body(), {"x-upstream-script": script}),
        )
    ids = ["req_000000000000000000000000%0A", "req_000000000000000000000000%00", "REQ_000000000000000000000000",
           "req_" + "0" * 25, "req_" + "0" * 23, SECRET, "..%2F..%2Fetc%2Fpasswd", "req_%E2%80%AE", "%FF",
           "req_00000000000000000000000g", "req_000000000000000000000000%20", "%0Areq_000000000000000000000000"]  # fmt: skip
    for index, request_id in enumerate(ids):
        yield Case(f"ids/audit-{index}", "ids", request("GET", f"/v1/audit/{request_id}"))
        yield Case(f"ids/audit-query-{index}", "ids", request("GET", f"/v1/audit/{request_id}?key={SECRET}"))
    backends = [SECRET, "", "ANTHROPIC", "anthropic ", "together", "openai\t", "%00"]
    for index, backend in enumerate(backends):
        yield Case(
            f"ids/backend-{index}",
            "ids",
            post_json("/v1/messages", messages_body(), {"x-ainfera-backend": backend}),
        )
    traceparents = [SECRET, "00-" + "0" * 32 + "-" + "0" * 16 + "-01", "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",
                    "00-" + "A" * 32 + "-" + "b" * 16 + "-01 ", "00-" + SECRET[:32] + "-" + "b" * 16 + "-01"]  # fmt: skip
    for index, value in enumerate(traceparents):
        yield Case(
            f"ids/traceparent-{index}",
            "ids",
            post_json("/v1/messages", messages_body(), {"traceparent": value}),
        )
    agents = ["a b", "x" * 129, "é", SECRET + "/x", ""]
    for index, agent in enumerate(agents):
        yield Case(
            f"ids/agent-{index}",
            "ids",
            post_json("/v1/messages", messages_body(), {"x-ainfera-agent-id": agent}),
        )
    credentials: dict[str, str | None] = {
        "no-key": None, "wrong-key": SECRET, "bearer-wrong": "Bearer " + SECRET, "basic": "Basic " + SECRET,
        "bearer-empty": "Bearer ", "long": SECRET * 50,
    }  # fmt: skip
    for name, credential in credentials.items():
        header = (
            {}
            if credential is None
            else ({"authorization": credential} if " " in credential else {"x-api-key": credential})
        )
        raw = request("POST", "/v1/messages", json.dumps(messages_body()).encode(), header, auth=False)
        yield Case(f"ids/credential-{name}", "ids", raw)
    for name, raw_value in {
        "latin1-key": b"\xff" + SECRET.encode(),
        "latin1-bearer": b"Bearer \xe9" + SECRET.encode(),
    }.items():
        header_name = b"authorization" if raw_value.startswith(b"Bearer") else b"x-api-key"
        raw = (
            b"GET /v1/models HTTP/1.1\r\nHost: g\r\nConnection: close\r\n"
            + header_name
            + b": "
            + raw_value
            + b"\r\n\r\n"
        )
        yield Case(f"ids/credential-{name}", "ids", raw)
    for index, query in enumerate([f"key={SECRET}", f"{SECRET}=1", "a=%FF", "a=" + "%" * 10, "x=1&" * 2000]):
        for path in ("/v1/models", "/healthz", "/v1/messages", "/nowhere", "/metrics"):
            method = "POST" if path == "/v1/messages" else "GET"
            query_body = json.dumps(messages_body()).encode() if method == "POST" else None
            yield Case(f"ids/query-{index}{path}", "ids", request(method, f"{path}?{query}", query_body))
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "HEAD", "FOO"):
        yield Case(f"ids/method-{method}", "ids", request(method, f"/v1/messages?k={SECRET}"))
