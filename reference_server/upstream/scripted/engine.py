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

    if d.corrupt == "tool_input_string" and tool is None:
        raise DirectiveError(
            "corrupt", "tool_input_string needs a tool call (tool=NAME, tool_choice or finish)"
        )
    if d.corrupt in ("huge", "wrong_types", "endless") and not kept:
        raise DirectiveError("corrupt", f"{d.corrupt} needs a text answer (text_tokens > 0)")
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
            have = f"{len(by_name)} tool(s)"
            raise DirectiveError("tool", f"names no tool of the request's tools (it has {have})")
        return by_name[d.tool]
    choice = request.tool_choice or {}
    if choice.get("type") == "tool":
        name = choice.get("name")
        if name not in by_name:
            raise UpstreamError(400, "invalid_request_error", "tool_choice names a tool that is not in tools")
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
MAX_TOOL_INPUT_CHARS = 256 * 1024
"""Budget of a generated tool input, in characters of its JSON. A schema asking for more (``minItems:
2000000``, ``minLength: 2e8``) is refused before anything that size is built: the engine runs on the event loop."""
MAX_SCHEMA_DEPTH = 32
"""Deepest nesting (``$ref`` hops included) the generator follows; a schema whose required properties recurse
without end is refused at this depth instead of exhausting the stack."""


class SchemaRefused(UpstreamError):
    """A tool ``input_schema`` the scripted upstream cannot generate an input for: malformed (a keyword of the
    wrong type), unsatisfiable within the budget, or recursing without end. A 400 ``invalid_request_error``,
    as a real upstream answers a schema it cannot use."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, "invalid_request_error", f"scripted upstream: tool input_schema {reason}")


class _Budget:
    def __init__(self, chars: int) -> None:
        self.left = chars

    def spend(self, chars: int) -> None:
        self.left -= chars
        if self.left < 0:
            raise SchemaRefused(f"asks for an input larger than {MAX_TOOL_INPUT_CHARS} characters")


def schema_instance(schema: Any) -> dict[str, Any]:
    """A tool input for ``input_schema``: an object with every declared property (only the required ones in
    deeply nested objects), honouring const/enum/anyOf/oneOf/allOf/local ``$ref``, string formats and
    length bounds, numeric bounds and ``multipleOf``, and array item counts. ``pattern`` is not honoured.

    Raises ``SchemaRefused`` for a schema it cannot serve within ``MAX_TOOL_INPUT_CHARS`` and
    ``MAX_SCHEMA_DEPTH``, or with a keyword of the wrong type."""
    budget = _Budget(MAX_TOOL_INPUT_CHARS)
    value = _instance(schema, schema, 0, budget)
    return value if isinstance(value, dict) else {}


def _count(schema: dict[str, Any], key: str, default: int = 0) -> int:
    """A count keyword (``minLength``, ``minItems``…): a non-negative integer (an integral float is one)."""
    value = schema.get(key, default)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SchemaRefused(f"has a '{key}' that is not a non-negative integer")
    return value


def _bound(schema: dict[str, Any], key: str) -> float | int | None:
    value = schema.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise SchemaRefused(f"has a '{key}' that is not a finite number")
    return value


def _instance(schema: Any, root: Any, depth: int, budget: _Budget) -> Any:
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaRefused(f"nests deeper than {MAX_SCHEMA_DEPTH} levels (a recursion without end?)")
    budget.spend(1)
    if not isinstance(schema, dict):
        return {} if depth == 0 else "example"  # `true` / missing schema: anything goes
    if isinstance(schema.get("$ref"), str):
        return _instance(_resolve(root, schema["$ref"]), root, depth + 1, budget)
    if "const" in schema:
        budget.spend(_size(schema["const"]))
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        budget.spend(_size(schema["enum"][0]))
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        return _instance(_merge_all_of(schema, root), root, depth + 1, budget)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            branch = schema[key][0]
            merged = {k: v for k, v in schema.items() if k != key}
            if isinstance(branch, dict):
                merged.update(branch)
            return _instance(merged, root, depth + 1, budget)
    kind = _schema_type(schema)
    if kind == "object":
        return _object_instance(schema, root, depth, budget)
    if kind == "array":
        return _array_instance(schema, root, depth, budget)
    if kind == "string":
        return _string_instance(schema, budget)
    if kind in ("integer", "number"):
        return _number_instance(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"


def _size(value: Any) -> int:
    """The JSON size of a value the schema gives outright (``const``, ``enum``), which came in a request body
    of bounded size."""
    return len(json.dumps(value, default=str))


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
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**_dict(merged.get("properties")), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = [*_list(merged.get("required")), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _object_instance(schema: dict[str, Any], root: Any, depth: int, budget: _Budget) -> dict[str, Any]:
    properties = _dict(schema.get("properties"))
    required = [r for r in _list(schema.get("required")) if isinstance(r, str)]
    names = list(properties) if depth < _FULL_DEPTH else [n for n in properties if n in required]
    result: dict[str, Any] = {}
    for name in names:
        budget.spend(len(name) + 4)
        result[name] = _instance(properties[name], root, depth + 1, budget)
    extra = schema.get("additionalProperties")
    extra_schema = extra if isinstance(extra, dict) else {"type": "string"}
    for name in required:  # required but undeclared properties
        if name not in result:
            budget.spend(len(name) + 4)
            result[name] = _instance(extra_schema, root, depth + 1, budget)
    min_properties = _count(schema, "minProperties")
    budget.spend(max(0, min_properties - len(result)) * 8)  # refused before building, if it cannot fit
    while len(result) < min_properties:
        result[f"key{len(result)}"] = _instance(extra_schema, root, depth + 1, budget)
    return result


def _array_instance(schema: dict[str, Any], root: Any, depth: int, budget: _Budget) -> list[Any]:
    prefix = _list(schema.get("prefixItems"))
    items = schema.get("items")
    if isinstance(items, list):  # draft-04 tuple form
        prefix, items = items, schema.get("additionalItems")
    min_items = _count(schema, "minItems")
    count = max(min_items, len(prefix), 1 if depth < _FULL_DEPTH else 0)
    if "maxItems" in schema:
        count = min(count, _count(schema, "maxItems"))
    budget.spend(count * 2)  # refused before building, if it cannot fit
    result = [_instance(prefix[i], root, depth + 1, budget) for i in range(min(count, len(prefix)))]
    item_schema = items if isinstance(items, dict) else {"type": "string"}
    while len(result) < count:
        value = _instance(item_schema, root, depth + 1, budget)
        if schema.get("uniqueItems") and isinstance(value, str):
            value = f"{value}{len(result)}" if len(result) else value
        result.append(value)
    return result


def _string_instance(schema: dict[str, Any], budget: _Budget) -> str:
    text = _FORMAT_EXAMPLES.get(str(schema.get("format")), "example")
    min_length = _count(schema, "minLength")
    budget.spend(max(len(text), min_length))  # refused before building, if it cannot fit
    if len(text) < min_length:
        text += "x" * (min_length - len(text))
    if "maxLength" in schema:
        text = text[: _count(schema, "maxLength")]
    return text


def _number_instance(schema: dict[str, Any], *, integer: bool) -> int | float:
    """The value closest to zero inside the bounds (draft-04 boolean and draft-06+ numeric exclusives). Bounds
    must be finite numbers; a value the arithmetic cannot represent (bounds near the float range's edge) is
    refused rather than returned as infinity."""
    low, high = _bound(schema, "minimum"), _bound(schema, "maximum")
    low_open = high_open = False
    for key, is_low in (("exclusiveMinimum", True), ("exclusiveMaximum", False)):
        bound = schema.get(key)
        if isinstance(bound, bool):
            if is_low:
                low_open = bound
            else:
                high_open = bound
        elif bound is not None:
            number = _bound(schema, key)
            if is_low:
                low, low_open = number, True
            else:
                high, high_open = number, True
    value: float = 0
    try:
        if low is not None and (value < low or (low_open and value <= low)):
            value = low + (1 if low_open else 0)
            if high is not None and (value > high or (high_open and value >= high)):
                value = low / 2 + high / 2
        elif high is not None and (value > high or (high_open and value >= high)):
            value = high - (1 if high_open else 0)
        step = schema.get("multipleOf")
        if step is not None:
            step = _bound(schema, "multipleOf")
            if step is not None and step > 0:
                value = math.ceil(value / step) * step
        if not math.isfinite(value):
            raise OverflowError
        if integer:
            return int(math.ceil(value) if low is not None else math.floor(value))
        return int(value) if float(value).is_integer() else value
    except (OverflowError, ValueError, ZeroDivisionError):
        raise SchemaRefused("has numeric bounds the generator cannot represent") from None


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


# --- Hostile answers (the ``corrupt`` directive) ---------------------------------------------------

HUGE_ANSWER_CHARS = 24 * 1024 * 1024
"""``corrupt=huge``: characters of text in the answer, past every gateway budget (and the reference's 16 MiB
read limit)."""
HUGE_DELTA_CHARS = 1024 * 1024
ENDLESS_MAX_DELTAS = 2_000_000
"""``corrupt=endless``: the stream is cut here by the scripted upstream itself (its own budget), long after a
gateway should have given up on it."""
NOT_JSON = '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "amb'
"""The data of a ``corrupt=bad_json`` event: JSON cut off mid-string."""
INVALID_TOOL_INPUT = '"INVALID"'
"""``corrupt=tool_input_string``: the tool input's JSON, a string where an object belongs."""


def corrupt_document(document: dict[str, Any], kind: str, *, openai: bool) -> dict[str, Any] | bytes:
    """The non-streamed answer (an Anthropic message, or an OpenAI ``chat.completion``) made hostile; bytes when
    it is not JSON at all. ``endless`` is the caller's (a body that never ends); here it is ``huge``."""
    text = json.dumps(document)
    if kind == "bad_json":
        return (text[: len(text) // 2] + "\x00 ;not json").encode()
    if kind == "truncate":
        return text[: len(text) // 2].encode()
    out: dict[str, Any] = json.loads(text)
    if openai:
        message = out["choices"][0]["message"]
        if kind == "wrong_types":
            message["content"] = 42
            out["usage"]["completion_tokens"] = "many"
        elif kind == "tool_input_string":
            for call in message.get("tool_calls") or []:
                call["function"]["arguments"] = INVALID_TOOL_INPUT
        else:  # huge, endless
            message["content"] = "x" * HUGE_ANSWER_CHARS
        return out
    if kind == "wrong_types":
        out["usage"]["output_tokens"] = "many"
        for block in out["content"]:
            if block["type"] == "text":
                block["text"] = 42
    elif kind == "tool_input_string":
        for block in out["content"]:
            if block["type"] == "tool_use":
                block["input"] = json.loads(INVALID_TOOL_INPUT)
    else:  # huge, endless
        out["content"] = [{"type": "text", "text": "x" * HUGE_ANSWER_CHARS}]
    return out


def corrupt_stream(items: Sequence[tuple[float, Any]], kind: str, *, openai: bool) -> list[tuple[float, Any]]:
    """A paced stream (Anthropic events or OpenAI chunks) made hostile; an item that is a ``str`` is the raw
    ``data`` of an event that is not JSON. ``endless`` is the caller's (``endless_deltas``)."""
    out = list(items)
    if kind == "truncate":  # a clean end of the body, without message_stop or [DONE]
        return out[: max(1, len(out) // 2)]
    if kind == "bad_json":
        return [out[0], (0.0, NOT_JSON), *out[1:]]
    text_at = next((i for i, (_, item) in enumerate(out) if _is_text_delta(item, openai=openai)), None)
    if kind == "tool_input_string":
        first = next(i for i, (_, item) in enumerate(out) if _is_arguments_delta(item, openai=openai))
        kept = [pair for pair in out if not _is_arguments_delta(pair[1], openai=openai)]
        kept.insert(first, (0.0, _arguments_delta(out[first][1], INVALID_TOOL_INPUT, openai=openai)))
        return kept
    assert text_at is not None  # build_script refuses huge and wrong_types without text
    if kind == "wrong_types":
        out[text_at] = (out[text_at][0], _text_delta(out[text_at][1], 42, openai=openai))
        return out
    huge = _text_delta(out[text_at][1], "x" * HUGE_DELTA_CHARS, openai=openai)
    count = HUGE_ANSWER_CHARS // HUGE_DELTA_CHARS
    return [*out[:text_at], *[(0.0, huge)] * count, *out[text_at:]]


def endless_deltas(template: Any, *, openai: bool) -> Any:
    """``corrupt=endless``: the first text delta of the stream, again and again (``ENDLESS_MAX_DELTAS``)."""
    delta = _text_delta(template, " amber", openai=openai)
    return (delta for _ in range(ENDLESS_MAX_DELTAS))


def first_text_delta(items: Sequence[tuple[float, Any]], *, openai: bool) -> int:
    return next(i for i, (_, item) in enumerate(items) if _is_text_delta(item, openai=openai))


def _is_text_delta(item: Any, *, openai: bool) -> bool:
    if not isinstance(item, dict):
        return False
    if openai:
        return any(isinstance(c.get("delta", {}).get("content"), str) and c["delta"]["content"]
                   for c in item.get("choices", []))  # fmt: skip
    return item.get("type") == "content_block_delta" and item["delta"].get("type") == "text_delta"


def _is_arguments_delta(item: Any, *, openai: bool) -> bool:
    if not isinstance(item, dict):
        return False
    if openai:
        return any(
            "id" not in call and call.get("function", {}).get("arguments")
            for choice in item.get("choices", [])
            for call in choice.get("delta", {}).get("tool_calls", [])
        )
    return item.get("type") == "content_block_delta" and item["delta"].get("type") == "input_json_delta"


def _text_delta(template: dict[str, Any], text: Any, *, openai: bool) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(template))
    if openai:
        out["choices"][0]["delta"] = {"content": text}
    else:
        out["delta"] = {"type": "text_delta", "text": text}
    return out


def _arguments_delta(template: dict[str, Any], arguments: str, *, openai: bool) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(template))
    if openai:
        out["choices"][0]["delta"]["tool_calls"][0]["function"] = {"arguments": arguments}
    else:
        out["delta"] = {"type": "input_json_delta", "partial_json": arguments}
    return out
