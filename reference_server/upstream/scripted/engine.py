"""The scripted upstream's engine: ``(UpstreamRequest, Directives) → Script``, and a Script in Anthropic form.

A ``Script`` is the whole answer decided up front, its blocks already split into the deltas a stream will
carry. The stream (``anthropic_events``) and the finished message (``anthropic_message``) are both
renderings of the same Script, which is what makes "folding the stream gives the non-streaming message" hold
by construction. Timing and failures (latency, first byte, error, drop) are applied by the callers (adapter,
HTTP server) with ``pace``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reference_server.upstream.base import (
    StreamEvent,
    UpstreamError,
    UpstreamMessage,
    UpstreamRequest,
    Usage,
    error_type_for_status,
)
from reference_server.upstream.scripted.directives import DirectiveError, Directives, directives_from_headers

T = TypeVar("T")

# Plain lower-case words without punctuation: the text never looks like markup, JSON or a secret, so gateway
# tests can reason about it (e.g. no log scrubber or stop sequence fires by accident).
VOCABULARY = (
    "amber", "basin", "cedar", "delta", "ember", "fjord", "grove", "harbor", "island", "juniper", "kelp",
    "lagoon", "meadow", "nectar", "orchard", "pebble", "quartz", "river", "summit", "tundra", "upland",
    "valley", "willow", "yarrow", "zephyr", "breeze", "canyon", "dune", "estuary", "forest", "glacier",
    "heath", "inlet", "jasper", "knoll", "lichen", "marsh", "north", "oasis", "prairie", "quarry", "ridge",
    "spruce", "thicket", "umber", "vista", "wharf", "yonder",
)  # fmt: skip

TOOL_FRAGMENT_CHARS = 8
"""``input_json_delta`` pieces are at most this long (shorter when needed to make at least three)."""


@dataclass(frozen=True)
class TextBlock:
    deltas: tuple[str, ...]
    """``text_delta`` texts; their concatenation is the block's text (words joined by single spaces)."""
    words: int

    @property
    def text(self) -> str:
        return "".join(self.deltas)


@dataclass(frozen=True)
class ToolUseBlock:
    id: str
    name: str
    input: dict[str, Any]
    fragments: tuple[str, ...]
    """``input_json_delta`` pieces; their concatenation is ``json.dumps(input)``."""


Block = TextBlock | ToolUseBlock


@dataclass(frozen=True)
class Script:
    """One fully decided answer."""

    message_id: str
    model: str
    blocks: tuple[Block, ...]
    stop_reason: str
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int
    directives: Directives

    @property
    def hex(self) -> str:
        """The deterministic hex part of the message id, reused for other dialects' ids."""
        return self.message_id.removeprefix("msg_")


def scripted_words(count: int, seed: int = 0) -> list[str]:
    """The words a script generates: a pure function of (position, seed), so tests can predict the text."""
    words = []
    for position in range(count):
        digest = hashlib.sha256(f"{seed}:{position}".encode()).digest()
        words.append(VOCABULARY[int.from_bytes(digest[:4], "big") % len(VOCABULARY)])
    return words


def build_script(request: UpstreamRequest, directives: Directives | None = None) -> Script:
    """Decide the whole answer. Raises ``DirectiveError`` for a script that cannot apply to this request and
    ``UpstreamError(400)`` for a request a real upstream would reject (a ``tool_choice`` naming no tool)."""
    d = directives if directives is not None else directives_from_headers(request.headers)
    digest = _request_digest(request, d)
    tool = _choose_tool(request, d)
    budget = request.max_tokens
    wanted = d.text_tokens if tool is None or d.text_before_tool else 0
    words = scripted_words(wanted, d.seed)

    # Generation runs word by word: whichever of "a stop sequence appears" and "max_tokens is reached" happens
    # first ends it. Only words within the budget can produce a stop sequence.
    stops = [s for s in [*request.stop_sequences, d.stop_sequence] if s]
    kept, matched = _cut_at_stop(words[:budget], stops)
    stop_sequence: str | None = None
    fragments: tuple[str, ...] = ()
    if matched is not None:
        stop_reason, stop_sequence, tool = "stop_sequence", matched, None
    elif len(words) > budget:
        stop_reason, tool = "max_tokens", None
    elif tool is not None:
        fragments = split_json(json.dumps(schema_instance(tool.get("input_schema", {}))))
        if len(kept) + len(fragments) > budget:
            # The tool call would not fit in what is left of max_tokens: the "model" ran out before it.
            stop_reason, tool, fragments = "max_tokens", None, ()
        else:
            stop_reason = "tool_use"
    elif d.stop_sequence is not None:
        stop_reason, stop_sequence = "stop_sequence", d.stop_sequence
    else:
        stop_reason = "end_turn"

    if d.finish is not None:  # a forced reason only relabels the ending; the content stays as generated
        stop_reason = d.finish
        if d.finish == "stop_sequence":
            stop_sequence = stop_sequence or d.stop_sequence or (stops[0] if stops else None)
            if stop_sequence is None:
                raise DirectiveError(
                    "finish", "stop_sequence needs stop_sequence=STR or a request stop sequence"
                )
        else:
            stop_sequence = None

    blocks: list[Block] = []
    if kept:
        blocks.append(TextBlock(deltas=tuple(_chunk_words(kept, d.chunk)), words=len(kept)))
    if tool is not None:
        tool_id = "toolu_" + hashlib.sha256(f"{digest}:tool:{tool['name']}".encode()).hexdigest()[:24]
        tool_input = json.loads("".join(fragments))
        blocks.append(ToolUseBlock(id=tool_id, name=tool["name"], input=tool_input, fragments=fragments))
    return Script(
        message_id="msg_" + digest[:24],
        model=request.model,
        blocks=tuple(blocks),
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        input_tokens=count_input_tokens(request),
        # Token rule: one output token per generated word, plus one per input_json_delta fragment of a tool.
        output_tokens=len(kept) + len(fragments),
        directives=d,
    )


def _request_digest(request: UpstreamRequest, d: Directives) -> str:
    """Same request and script → same digest → same ids and words. Headers other than the directive (a fresh
    ``traceparent`` per call) are deliberately left out."""
    material = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": request.messages,
        "system": request.system,
        "stop_sequences": request.stop_sequences,
        "tools": request.tools,
        "tool_choice": request.tool_choice,
        "directives": d.canonical(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _choose_tool(request: UpstreamRequest, d: Directives) -> dict[str, Any] | None:
    """The tool the answer calls, if any. The ``tool`` directive wins over ``tool_choice`` (even ``none``)."""
    tools = [t for t in request.tools or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]
    by_name = {t["name"]: t for t in tools}
    if d.tool is not None:
        if d.tool not in by_name:
            have = ", ".join(by_name) or "none"
            raise DirectiveError("tool", f"no tool named {d.tool!r} in the request's tools (have: {have})")
        return by_name[d.tool]
    choice = request.tool_choice or {}
    if choice.get("type") == "tool":
        name = choice.get("name")
        if name not in by_name:
            raise UpstreamError(400, "invalid_request_error", f"tool_choice names unknown tool {name!r}")
        return by_name[name]
    if choice.get("type") == "any":
        if not tools:
            raise UpstreamError(400, "invalid_request_error", "tool_choice 'any' needs at least one tool")
        return tools[0]
    if d.finish == "tool_use":
        if not tools:
            raise DirectiveError("finish", "tool_use needs at least one tool in the request")
        return tools[0]
    return None


def _cut_at_stop(words: list[str], stops: list[str]) -> tuple[list[str], str | None]:
    """Keep the longest prefix of words whose text contains no stop sequence; return it and the sequence that
    the next word produced (earliest match wins, like a decoder scanning left to right). The kept text never
    contains the stop sequence, as in Anthropic's API."""
    if not stops:
        return words, None
    window = max(len(s) for s in stops)
    tail = ""  # only the end of the text so far can take part in a new match
    for position, word in enumerate(words):
        candidate = word if position == 0 else f"{tail} {word}"
        hits = [s for s in stops if s in candidate]
        if hits:
            return words[:position], min(hits, key=lambda s: (candidate.index(s), -len(s)))
        tail = candidate[-window:]
    return words, None


def _chunk_words(words: list[str], size: int) -> list[str]:
    """Deltas of ``size`` words; every delta after the first carries its leading space so that the
    concatenation is exactly ``" ".join(words)``."""
    deltas = []
    for start in range(0, len(words), size):
        piece = " ".join(words[start : start + size])
        deltas.append(piece if start == 0 else " " + piece)
    return deltas


def split_json(text: str) -> tuple[str, ...]:
    """Split a JSON text into ``input_json_delta`` pieces: at most 8 characters, and at least three pieces
    when the text has three characters, so that gateways really have to accumulate fragments."""
    size = max(1, min(TOOL_FRAGMENT_CHARS, math.ceil(len(text) / 3)))
    return tuple(text[i : i + size] for i in range(0, len(text), size)) or ("",)


def count_input_tokens(request: UpstreamRequest) -> int:
    """Words in the system prompt and the messages (tool inputs as their JSON, images and other blocks one
    each); at least 1."""
    total = _content_words(request.system) + sum(
        _content_words(m.get("content")) for m in request.messages if isinstance(m, dict)
    )
    return max(1, total)


def _content_words(content: Any) -> int:
    if isinstance(content, str):
        return len(content.split())
    if not isinstance(content, list):
        return 0
    total = 0
    for block in content:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            total += _content_words(block.get("text"))
        elif kind == "tool_result":
            total += _content_words(block.get("content"))
        elif kind == "tool_use":
            total += len(json.dumps(block.get("input", {})).split())
        else:
            total += 1
    return total


# --- JSON Schema → a minimal but complete valid instance ------------------------------------------

_FORMAT_EXAMPLES = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}
_FULL_DEPTH = 6  # below this depth optional properties and items are left out, so recursive schemas terminate


def schema_instance(schema: Any) -> dict[str, Any]:
    """A tool input for ``input_schema``: an object with every declared property (only the required ones in
    deeply nested objects), honouring const/enum/anyOf/oneOf/allOf/local ``$ref``, string formats and
    length bounds, numeric bounds and ``multipleOf``, and array item counts. ``pattern`` is not honoured."""
    value = _instance(schema, schema, 0)
    return value if isinstance(value, dict) else {}


def _instance(schema: Any, root: Any, depth: int) -> Any:
    if not isinstance(schema, dict):
        return {} if depth == 0 else "example"  # `true` / missing schema: anything goes
    if isinstance(schema.get("$ref"), str):
        return _instance(_resolve(root, schema["$ref"]), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        return _instance(_merge_all_of(schema, root), root, depth)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _instance({**{k: v for k, v in schema.items() if k != key}, **schema[key][0]}, root, depth)
    kind = _schema_type(schema)
    if kind == "object":
        return _object_instance(schema, root, depth)
    if kind == "array":
        return _array_instance(schema, root, depth)
    if kind == "string":
        return _string_instance(schema)
    if kind in ("integer", "number"):
        return _number_instance(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        return str(non_null[0]) if non_null else "null"
    if isinstance(kind, str):
        return kind
    # Untyped schemas: infer from the keywords present.
    if any(k in schema for k in ("properties", "required", "additionalProperties")):
        return "object"
    if any(k in schema for k in ("items", "prefixItems", "minItems")):
        return "array"
    if any(k in schema for k in ("minLength", "maxLength", "format", "pattern")):
        return "string"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return None


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return {}  # remote refs are out of scope for a tool schema
    node = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _merge_all_of(schema: dict[str, Any], root: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        if isinstance(part, dict) and isinstance(part.get("$ref"), str):
            part = _resolve(root, part["$ref"])
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _object_instance(schema: dict[str, Any], root: Any, depth: int) -> dict[str, Any]:
    declared_properties = schema.get("properties")
    properties: dict[str, Any] = declared_properties if isinstance(declared_properties, dict) else {}
    declared = schema.get("required")
    required = [r for r in declared if isinstance(r, str)] if isinstance(declared, list) else []
    names = list(properties) if depth < _FULL_DEPTH else [n for n in properties if n in required]
    result = {name: _instance(properties[name], root, depth + 1) for name in names}
    extra = schema.get("additionalProperties")
    extra_schema = extra if isinstance(extra, dict) else {"type": "string"}
    for name in required:  # required but undeclared properties
        if name not in result:
            result[name] = _instance(extra_schema, root, depth + 1)
    min_properties = schema.get("minProperties", 0)
    while len(result) < min_properties:
        result[f"key{len(result)}"] = _instance(extra_schema, root, depth + 1)
    return result


def _array_instance(schema: dict[str, Any], root: Any, depth: int) -> list[Any]:
    declared_prefix = schema.get("prefixItems")
    prefix: list[Any] = declared_prefix if isinstance(declared_prefix, list) else []
    items = schema.get("items")
    if isinstance(items, list):  # draft-04 tuple form
        prefix, items = items, schema.get("additionalItems")
    min_items = schema.get("minItems", 0)
    count = max(min_items, len(prefix), 1 if depth < _FULL_DEPTH else 0)
    if isinstance(schema.get("maxItems"), int):
        count = min(count, schema["maxItems"])
    result = [_instance(prefix[i], root, depth + 1) for i in range(min(count, len(prefix)))]
    item_schema = items if isinstance(items, dict) else {"type": "string"}
    while len(result) < count:
        value = _instance(item_schema, root, depth + 1)
        if schema.get("uniqueItems") and isinstance(value, str):
            value = f"{value}{len(result)}" if len(result) else value
        result.append(value)
    return result


def _string_instance(schema: dict[str, Any]) -> str:
    text = _FORMAT_EXAMPLES.get(str(schema.get("format")), "example")
    min_length = schema.get("minLength", 0)
    if len(text) < min_length:
        text += "x" * (min_length - len(text))
    max_length = schema.get("maxLength")
    if isinstance(max_length, int):
        text = text[:max_length]
    return text


def _number_instance(schema: dict[str, Any], *, integer: bool) -> int | float:
    """The value closest to zero inside the bounds (draft-04 boolean and draft-06+ numeric exclusives)."""
    low, high = schema.get("minimum"), schema.get("maximum")
    low_open = high_open = False
    for key, is_low in (("exclusiveMinimum", True), ("exclusiveMaximum", False)):
        bound = schema.get(key)
        if isinstance(bound, bool):
            if is_low:
                low_open = bound
            else:
                high_open = bound
        elif isinstance(bound, int | float):
            if is_low:
                low, low_open = bound, True
            else:
                high, high_open = bound, True
    value: float = 0
    if low is not None and (value < low or (low_open and value <= low)):
        value = low + (1 if low_open else 0)
        if high is not None and (value > high or (high_open and value >= high)):
            value = (low + high) / 2
    elif high is not None and (value > high or (high_open and value >= high)):
        value = high - (1 if high_open else 0)
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        value = math.ceil(value / step) * step
    if integer:
        value = math.ceil(value) if low is not None else math.floor(value)
        return int(value)
    return int(value) if float(value).is_integer() else value


# --- Anthropic renderings -------------------------------------------------------------------------


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, TextBlock):
        return {"type": "text", "text": block.text}
    return {
        "type": "tool_use",
        "id": block.id,
        "name": block.name,
        "input": json.loads(json.dumps(block.input)),
    }


def anthropic_message(script: Script) -> dict[str, Any]:
    """The non-streaming Anthropic ``Message`` JSON."""
    return {
        "id": script.message_id,
        "type": "message",
        "role": "assistant",
        "model": script.model,
        "content": [_block_json(b) for b in script.blocks],
        "stop_reason": script.stop_reason,
        "stop_sequence": script.stop_sequence,
        "usage": {"input_tokens": script.input_tokens, "output_tokens": script.output_tokens},
    }


def upstream_message(script: Script) -> UpstreamMessage:
    """The non-streaming answer as the adapter interface returns it."""
    return UpstreamMessage(
        id=script.message_id,
        content=[_block_json(b) for b in script.blocks],
        stop_reason=script.stop_reason,
        stop_sequence=script.stop_sequence,
        usage=Usage(input_tokens=script.input_tokens, output_tokens=script.output_tokens),
    )


def anthropic_events(script: Script) -> list[StreamEvent]:
    """The complete stream, in Anthropic's order, with one ``ping`` after ``message_start`` as the real API
    sends. Failures are not in here: ``pace`` cuts the list where a ``drop_after`` script dies."""
    start_usage = {"input_tokens": script.input_tokens, "output_tokens": min(1, script.output_tokens)}
    events: list[StreamEvent] = [
        {
            "type": "message_start",
            "message": {
                "id": script.message_id,
                "type": "message",
                "role": "assistant",
                "model": script.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(script.blocks):
        if isinstance(block, TextBlock):
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in block.deltas]
        else:
            opening = {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": f} for f in block.fragments]
        events.append({"type": "content_block_start", "index": index, "content_block": opening})
        events.extend({"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas)
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": script.stop_reason, "stop_sequence": script.stop_sequence},
            "usage": {"output_tokens": script.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def is_anthropic_delta(event: StreamEvent) -> bool:
    return event.get("type") == "content_block_delta"


def is_anthropic_end(event: StreamEvent) -> bool:
    return event.get("type") == "message_delta"


# --- Timing and failures, shared by the adapter and the HTTP server -------------------------------


def upfront_error(d: Directives, *, streaming: bool) -> UpstreamError | None:
    """The failure that happens before the first byte, if the script has one. A non-streaming call cannot
    drop half-way, so ``drop_after`` there is an upstream 500."""
    if d.error is not None:
        message = f"scripted upstream error {d.error} (directive error={d.error})"
        return UpstreamError(d.error, error_type_for_status(d.error), message)
    if d.drop_after is not None and not streaming:
        return UpstreamError(
            500, "api_error", f"scripted upstream failed (directive drop_after={d.drop_after})"
        )
    return None


def drop_error(d: Directives) -> UpstreamError:
    return UpstreamError(
        500,
        "api_error",
        f"scripted upstream dropped the connection after {d.drop_after} content deltas",
        dropped=True,
    )


def pace(
    items: Sequence[T], d: Directives, *, is_delta: Callable[[T], bool], is_end: Callable[[T], bool]
) -> tuple[list[tuple[float, T]], bool]:
    """Attach to each stream item the delay (seconds) to wait before sending it, and cut the stream where a
    ``drop_after`` script dies: before the (N+1)-th content delta, or before the end-of-message item if the
    content has N deltas or fewer (a scripted drop always drops). Returns ``(paced items, dropped)``.
    ``first_byte_ms`` is not included: callers wait it before anything else (a server before its headers)."""
    paced: list[tuple[float, T]] = []
    deltas = 0
    for item in items:
        delta = is_delta(item)
        if d.drop_after is not None and (is_end(item) or (delta and deltas >= d.drop_after)):
            return paced, True
        paced.append((d.latency_ms / 1000 if delta else 0.0, item))
        deltas += delta
    return paced, False


def total_delay(script: Script) -> float:
    """How long a non-streaming call takes: as long as the same stream would."""
    deltas = sum(len(b.deltas) if isinstance(b, TextBlock) else len(b.fragments) for b in script.blocks)
    d = script.directives
    return (d.first_byte_ms + d.latency_ms * deltas) / 1000
