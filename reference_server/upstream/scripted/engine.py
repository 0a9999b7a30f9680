"""The scripted upstream's engine: ``(UpstreamRequest, Directives) → Script``.

A ``Script`` is the whole answer decided up front, its blocks already split into the deltas a stream will
carry. Its renderings (``renderings``: the Anthropic stream and message, the OpenAI chunks and completion) are
all made from the same Script, which is what makes "folding the stream gives the non-streaming message" hold by
construction. Timing and failures (latency, first byte, error, drop) are applied by the callers (adapter, HTTP
server) with ``pacing``; hostile answers by ``corrupt``; a tool's input comes from ``tool_input``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from reference_server.upstream.base import UpstreamError, UpstreamRequest
from reference_server.upstream.scripted.directives import DirectiveError, Directives, directives_from_headers
from reference_server.upstream.scripted.tool_input import schema_instance

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
