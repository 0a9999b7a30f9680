"""Hostile upstream answers: the scripted upstream's ``corrupt`` and ``drop_after`` directives, through each
backend's adapter."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from reference_server.upstream.scripted.directives import CORRUPT_VALUES
from tests.hostile.corpus.case import Case, chat_body, messages_body, post_json


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
