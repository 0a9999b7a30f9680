"""Body cases: bodies that are not the JSON object a route takes (encodings, nesting, size, shape)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

from tests.hostile.corpus.case import Case, chat_body, messages_body, post_json, request
from tests.hostile.support import SECRET


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
