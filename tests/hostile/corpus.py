"""The hostile-input corpus, generated: framing, bodies, fields, tool schemas, directives and ids, and hostile upstream
answers. Every case is a raw HTTP/1.1 request (bytes), so framing cases and JSON cases go through one runner.

The fields part walks both request schemas of the contract (``MessagesRequest`` and ``ChatCompletionRequest`` in
contracts/openapi.yaml) and puts wrong types and boundary values into every property it finds, nested ones
included. Secrets are planted in header values, query strings and body values; ``SECRET_MARK`` in an answer is an
echo. A few values the contract echoes by design are never given a secret (the agent id header, tool names,
stop sequences, the model name of a successful call).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contracts import inlined_component_schema
from reference_server.models_catalog import CANONICAL_MODEL
from reference_server.upstream.scripted.directives import CORRUPT_VALUES
from tests.hostile.support import SECRET

KEY = "sk-hostile-corpus-client-key-000111"
"""The client key the corpus gateway accepts."""


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    """framing, slow, bodies, fields, tools, directives, ids, upstream."""
    raw: bytes
    upstream_fault: bool = False
    """A hostile upstream answer: its documented upstream error (a 5xx envelope, an error event) is expected."""
    slow: bool = False
    """A slow sender: the gateway must close the connection within its timeouts (an answer is optional)."""


def request(
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    auth: bool = True,
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: gateway", "Connection: close"]
    if auth:
        lines.append(f"x-api-key: {KEY}")
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + (body or b"")


def messages_body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "hello"}],
    }
    out.update(changes)
    return out


def chat_body(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": CANONICAL_MODEL,
        "max_tokens": 32,
        "messages": [{"role": "user", "content": "hi"}],
    }
    out.update(changes)
    return out


def post_json(path: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
    return request("POST", path, json.dumps(body).encode(), headers)


# --- framing -----------------------------------------------------------------------------------------------


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


# --- bodies ------------------------------------------------------------------------------------------------


def body_cases() -> Iterator[Case]:
    for path in ("/v1/messages", "/v1/chat/completions"):
        route = path.rsplit("/", 1)[-1]
        valid = json.dumps(
            messages_body() if route == "messages" else chat_body(), separators=(",", ":")
        ).encode()
        for cut in range(1, len(valid), max(1, len(valid) // 24)):
            yield Case(f"bodies/{route}/truncated-{cut}", "bodies", request("POST", path, valid[:cut]))
        not_objects = [
            b"",
            b"null",
            b"[]",
            b"1",
            b'"' + SECRET.encode() + b'"',
            b"true",
            b"{}",
            b"{{}",
            b"\xef\xbb\xbf{}",
        ]
        for index, raw in enumerate(not_objects):
            yield Case(f"bodies/{route}/not-object-{index}", "bodies", request("POST", path, raw))
        numbers = [
            "9" * 5000, "-" + "9" * 4301, "9" * 1001, "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1e-400",
            "0." + "0" * 5000 + "1", "1" + "0" * 400 + ".5", "-0", "0x10", "01", "1.", ".5", "+1", "1e", "1E+2",
        ]  # fmt: skip
        for field, literal in itertools.product(["max_tokens", "temperature", "top_p"], numbers):
            base = messages_body() if route == "messages" else chat_body()
            base[field] = "__N__"
            raw = json.dumps(base).replace('"__N__"', literal).encode()
            case_id = f"bodies/{route}/number-{field}-{numbers.index(literal)}"
            yield Case(case_id, "bodies", request("POST", path, raw))
        unicode_values = [
            "\\ud800", "\\udfff", "\\ud83d", "a\\u0000b", "\\u202e" + SECRET, "\\ufeff", "\\uffff", "\\ud83d\\ude00",
        ]  # fmt: skip
        for index, escaped in enumerate(unicode_values):
            base = messages_body() if route == "messages" else chat_body()
            base["messages"] = [{"role": "user", "content": "__U__"}]
            raw = json.dumps(base).replace("__U__", escaped).encode()
            yield Case(f"bodies/{route}/unicode-{index}", "bodies", request("POST", path, raw))
        raw_bytes = [
            b"\xff\xfe",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\x80",
            SECRET.encode() + b"\xfe",
        ]
        for index, bad in enumerate(raw_bytes):
            raw = json.dumps(messages_body()).encode().replace(b"hello", bad)
            yield Case(f"bodies/{route}/bad-utf8-{index}", "bodies", request("POST", path, raw))
        for depth, where in itertools.product([10, 63, 64, 65, 100, 1000, 20000], ["array", "metadata"]):
            if where == "array":
                raw = b"[" * depth + b"]" * depth
            else:
                nested: Any = SECRET
                for _ in range(depth if depth < 1000 else 200):
                    nested = {"k": nested}
                raw = json.dumps(messages_body(metadata=nested)).encode()
            yield Case(f"bodies/{route}/depth-{where}-{depth}", "bodies", request("POST", path, raw))
        for size in (1024 * 1024 - 200, 1024 * 1024 + 1, 3 * 1024 * 1024):
            filler = "a " * (size // 2)
            raw = json.dumps(messages_body(messages=[{"role": "user", "content": filler}])).encode()[:size]
            yield Case(f"bodies/{route}/size-{size}", "bodies", request("POST", path, raw))
        many = [{"role": "user" if i % 2 == 0 else "assistant", "content": "w"} for i in range(5001)]
        yield Case(f"bodies/{route}/many-messages", "bodies", post_json(path, messages_body(messages=many)))
        keys = {f"k{i}": i for i in range(20000)}
        yield Case(f"bodies/{route}/many-keys", "bodies", post_json(path, messages_body(metadata=keys)))
        for content_type in (
            "text/plain",
            "application/json; charset=latin-1",
            SECRET,
            "multipart/form-data",
        ):
            raw = request("POST", path, valid, {"content-type": content_type}).replace(
                b"content-type: application/json\r\n", b"", 1
            )
            yield Case(f"bodies/{route}/content-type-{content_type[:16]}", "bodies", raw)


# --- fields ------------------------------------------------------------------------------------------------

WRONG_TYPES: list[Any] = [None, True, 0, -1, 1.5, "", SECRET, [], {}, [SECRET], {"k": SECRET}, 2**70]


def _boundaries(schema: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for key, delta in (("minimum", -1), ("maximum", 1), ("exclusiveMinimum", 0), ("exclusiveMaximum", 0)):
        if isinstance(schema.get(key), int | float) and not isinstance(schema.get(key), bool):
            out += [schema[key] + delta, schema[key]]
    if isinstance(schema.get("minLength"), int):
        out.append("x" * max(0, schema["minLength"] - 1))
    if isinstance(schema.get("maxLength"), int):
        out.append("x" * (schema["maxLength"] + 1))
    if isinstance(schema.get("minItems"), int):
        out.append([] if schema["minItems"] > 0 else [SECRET])
    if isinstance(schema.get("maxItems"), int):
        out.append(["x"] * (schema["maxItems"] + 1))
    if "enum" in schema or "const" in schema:
        out.append(SECRET)
    return out


def _walk(schema: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every (path, schema) of a property, depth first; arrays step into their first item."""
    if not isinstance(schema, dict) or len(path) > 6:
        return
    for branch_key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(branch_key) or []:
            yield from _walk(branch, path)
    for name, sub in (schema.get("properties") or {}).items():
        yield (*path, name), sub
        yield from _walk(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], (*path, 0))


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    out = json.loads(json.dumps(document))
    node = out
    for step in path[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or not node:
                return None
            node = node[0]
        else:
            if not isinstance(node, dict):
                return None
            node = node.setdefault(step, {})
    if isinstance(path[-1], int) or not isinstance(node, dict):
        return None
    node[path[-1]] = value
    return out


# Fields whose value the contract answers with, by design: a secret there is not an echo to look for.
_ECHOED_BY_DESIGN = {"stop_sequences", "stop", "name", "model"}


def field_cases() -> Iterator[Case]:
    tool = {
        "name": "t",
        "description": "d",
        "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}},
    }
    templates = {
        ("/v1/messages", "MessagesRequest"): messages_body(
            system="s", stop_sequences=["zz"], temperature=0.5, top_p=0.5, tools=[tool],
            tool_choice={"type": "auto"}, metadata={"user_id": "u"}, stream=False,
        ),
        ("/v1/chat/completions", "ChatCompletionRequest"): chat_body(
            stop=["zz"], temperature=0.5, top_p=0.5, stream=False,
            tools=[{"type": "function", "function": {"name": "t", "parameters": tool["input_schema"]}}],
            tool_choice="auto",
        ),
    }  # fmt: skip
    seen: set[str] = set()
    for (path, component), template in templates.items():
        for field_path, schema in _walk(inlined_component_schema(component), ()):
            name = ".".join(str(p) for p in field_path)
            for index, value in enumerate([*WRONG_TYPES, *_boundaries(schema)]):
                if field_path[-1] in _ECHOED_BY_DESIGN and SECRET in json.dumps(value):
                    continue
                document = _set(template, field_path, value)
                if document is None:
                    continue
                case_id = f"fields/{component}/{name}/{index}"
                if case_id in seen:
                    continue
                seen.add(case_id)
                yield Case(case_id, "fields", post_json(path, document))


# --- tool schemas --------------------------------------------------------------------------------------------


def tool_schema_cases() -> Iterator[Case]:
    magnitudes: list[Any] = [10, 1000, 100_000, 2_000_000, 10**9, 1e308, -1, "5", 1.5, True, None, [], {}]
    keywords = ["minItems", "minProperties", "minLength", "maxItems", "maxLength"]
    types = {
        "minItems": "array",
        "minProperties": "object",
        "minLength": "string",
        "maxItems": "array",
        "maxLength": "string",
    }
    schemas: list[tuple[str, Any]] = []
    for keyword, value in itertools.product(keywords, magnitudes):
        schemas.append((f"{keyword}-{value!r}"[:40], {"type": types[keyword], keyword: value}))
    numeric = [
        {"type": "integer", "exclusiveMinimum": 1e308}, {"type": "number", "exclusiveMinimum": 1e308, "multipleOf": 0.5},
        {"type": "integer", "minimum": 1e308, "maximum": 1.7e308}, {"type": "number", "maximum": -1e308},
        {"type": "integer", "minimum": 10, "maximum": 1}, {"type": "number", "multipleOf": 0},
        {"type": "number", "multipleOf": 1e-308, "minimum": 1}, {"type": "integer", "minimum": "5"},
        {"type": "number", "exclusiveMaximum": True, "maximum": 0}, {"type": "integer", "multipleOf": -3},
    ]  # fmt: skip
    schemas += [(f"numeric-{i}", s) for i, s in enumerate(numeric)]
    structural: list[Any] = [
        {"$ref": "#"}, {"$ref": "#/properties/p"}, {"$ref": "#/$defs/missing"}, {"$ref": "https://evil/" + SECRET},
        {"allOf": [{"$ref": "#/properties/p"}]}, {"anyOf": []}, {"oneOf": [None, 5]}, {"type": ["null"]},
        {"type": 5}, {"type": [SECRET]}, {"properties": [1, 2]}, {"required": "x"}, {"items": [1]},
        {"prefixItems": "x", "type": "array"}, {"enum": []}, {"const": {"k": [1, None]}}, True, False, None, 5,
        {"type": "array", "minItems": 2000, "items": {"type": "array", "minItems": 2000}},
        {"type": "object", "required": [f"r{i}" for i in range(5000)]},
    ]  # fmt: skip
    schemas += [(f"structural-{i}", s) for i, s in enumerate(structural)]
    for (name, schema), (path, stream) in itertools.product(
        schemas, [("/v1/messages", False), ("/v1/messages", True), ("/v1/chat/completions", False)]
    ):
        input_schema = {"type": "object", "required": ["p"], "properties": {"p": schema}}
        if path == "/v1/messages":
            body = messages_body(
                max_tokens=32_768, stream=stream, tools=[{"name": "t", "input_schema": input_schema}],
                tool_choice={"type": "tool", "name": "t"},
            )  # fmt: skip
        else:
            function = {"name": "t", "parameters": input_schema}
            body = chat_body(
                max_tokens=4096, tools=[{"type": "function", "function": function}],
                tool_choice={"type": "function", "function": {"name": "t"}},
            )  # fmt: skip
        route = path.rsplit("/", 1)[-1]
        yield Case(f"tools/{route}/{'stream' if stream else 'json'}/{name}", "tools", post_json(path, body))


# --- directives and ids --------------------------------------------------------------------------------------


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


# --- hostile upstream answers -----------------------------------------------------------------------------------


def upstream_cases() -> Iterator[Case]:
    tool = {"name": "t", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}}
    chat_tool = {"type": "function", "function": {"name": "t", "parameters": tool["input_schema"]}}
    extras = ["", "; latency_ms=1", "; chunk=1; text_tokens=40", "; seed=3"]
    for kind, backend, stream, route, extra in itertools.product(
        CORRUPT_VALUES, ["anthropic", "openai", "mistral", "groq"], [False, True],
        ["messages", "chat/completions"], extras,
    ):  # fmt: skip
        if extra and (backend in ("mistral", "groq") or kind in ("huge", "endless")):
            continue  # the extras vary the common kinds; huge and endless are costly enough once
        if route == "messages":
            body = messages_body(stream=stream, max_tokens=256)
            if kind == "tool_input_string":
                body.update(tools=[tool], tool_choice={"type": "tool", "name": "t"})
        else:
            body = chat_body(stream=stream, max_tokens=256)
            if kind == "tool_input_string":
                body.update(tools=[chat_tool], tool_choice={"type": "function", "function": {"name": "t"}})
        headers = {"x-ainfera-backend": backend, "x-upstream-script": f"corrupt={kind}{extra}"}
        case_id = f"upstream/{kind}/{backend}/{route}/{'stream' if stream else 'json'}/{extras.index(extra)}"
        yield Case(case_id, "upstream", post_json(f"/v1/{route}", body, headers), upstream_fault=True)
    for status, backend, stream in itertools.product(
        [400, 401, 403, 404, 408, 429, 500, 503, 529, 599], ["anthropic", "openai"], [False, True]
    ):
        headers = {"x-ainfera-backend": backend, "x-upstream-script": f"error={status}"}
        yield Case(
            f"upstream/error-{status}/{backend}/{'stream' if stream else 'json'}", "upstream",
            post_json("/v1/messages", messages_body(stream=stream), headers), upstream_fault=True,
        )  # fmt: skip
    for drop, backend in itertools.product([0, 1, 3], ["anthropic", "openai", "groq"]):
        headers = {
            "x-ainfera-backend": backend,
            "x-upstream-script": f"drop_after={drop}; text_tokens=20; chunk=2",
        }
        yield Case(
            f"upstream/drop-{drop}/{backend}", "upstream",
            post_json("/v1/messages", messages_body(stream=True), headers), upstream_fault=True,
        )  # fmt: skip


def corpus() -> list[Case]:
    cases = [
        *framing_cases(),
        *slow_cases(),
        *body_cases(),
        *field_cases(),
        *tool_schema_cases(),
        *directive_and_id_cases(),
        *upstream_cases(),
    ]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases
