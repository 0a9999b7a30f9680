"""Throughput of the SSE grammar validator beside a plain ``json.loads`` of the same events, in the same process.

The stream is what a gateway sends for a long answer: message_start, a text block of many small text_delta
events, a tool_use block whose input arrives in fragments, pings here and there, message_delta, message_stop (and,
for the OpenAI dialect, the same answer as chat.completion.chunk frames with a usage chunk and [DONE]). The
validator reads the raw bytes in 16 KiB network-sized chunks and does everything it does in production: framing,
strict line checks, JSON, the state table, the per-event schema checks and the content rules. The baseline only
parses each event's data, already cut out of the stream, with ``json.loads``. Target: the validator keeps at least
half of the baseline's throughput.

Run: ``python -m benchmarks.sse_validator [--tokens N] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway_contracts.sse import validator_for

CHUNK = 16 * 1024
# fmt: off
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "streaming", "tokens",
         "arrive", "one", "by", "one"]
# fmt: on


def anthropic_events(tokens: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = [
        {"type": "ping"},
        {
            "type": "message_start",
            "message": {
                "id": "msg_01Bench",
                "type": "message",
                "role": "assistant",
                "model": "ainfera-inference",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 1200, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    for i in range(tokens):
        events.append(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": f" {WORDS[i % 16]}"},
            }
        )
        if i % 100 == 99:
            events.append({"type": "ping"})
    events.append({"type": "content_block_stop", "index": 0})
    events.append(
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_01Bench", "name": "search", "input": {}},
        }
    )
    arguments = json.dumps({"query": " ".join(WORDS), "limit": 10, "filters": {"lang": "en", "safe": True}})
    for start in range(0, len(arguments), 8):
        events.append(
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": arguments[start : start + 8]},
            }
        )
    events.append({"type": "content_block_stop", "index": 1})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": tokens + 40},
        }
    )
    events.append({"type": "message_stop"})
    return events


def openai_chunks(tokens: int) -> list[object]:
    def chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
        return {
            "id": "chatcmpl-Bench",
            "object": "chat.completion.chunk",
            "created": 1759142590,
            "model": "ainfera-inference",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None,
        }

    chunks: list[object] = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": f" {WORDS[i % 16]}"}) for i in range(tokens)]
    chunks.append(chunk({}, "stop"))
    chunks.append(
        {
            "id": "chatcmpl-Bench",
            "object": "chat.completion.chunk",
            "created": 1759142590,
            "model": "ainfera-inference",
            "choices": [],
            "usage": {"prompt_tokens": 1200, "completion_tokens": tokens, "total_tokens": 1200 + tokens},
        }
    )
    chunks.append("[DONE]")
    return chunks


def wire(dialect: str, tokens: int) -> tuple[bytes, list[str]]:
    """The stream's bytes, and each event's data as the baseline gets it."""
    if dialect == "anthropic":
        payloads = [json.dumps(e, separators=(",", ":")) for e in anthropic_events(tokens)]
        names = [str(e["type"]) for e in anthropic_events(tokens)]
        body = "".join(f"event: {n}\ndata: {p}\n\n" for n, p in zip(names, payloads, strict=True))
        return body.encode(), payloads
    payloads = [
        c if isinstance(c, str) else json.dumps(c, separators=(",", ":")) for c in openai_chunks(tokens)
    ]
    body = "".join(f"data: {p}\n\n" for p in payloads)
    # The baseline parses JSON only: [DONE] is not JSON.
    return body.encode(), [p for p in payloads if p != "[DONE]"]


def best_of(repeat: int, *runs: Callable[[], object]) -> list[float]:
    """The best CPU time of each run. CPU time of this process, not wall time: on a shared machine (CI, other
    test suites) wall time counts the moments this process was not running. The runs alternate, so that what
    remains (caches, frequency) weighs on both sides of the ratio alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            start = time.process_time()
            run()
            best[i] = min(best[i], time.process_time() - start)
    return best


@dataclass
class Result:
    dialect: str
    events: int
    megabytes: float
    baseline_s: float
    validator_s: float

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.validator_s


def measure(dialect: str, tokens: int, repeat: int) -> Result:
    body, payloads = wire(dialect, tokens)
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    loads = json.loads

    def baseline() -> None:
        for payload in payloads:
            loads(payload)

    def validator() -> None:
        v = validator_for(dialect)  # type: ignore[arg-type]
        for chunk in chunks:
            v.feed(chunk)
        if v.close():
            raise AssertionError(f"the benchmark stream is not valid: {v.violations[:3]}")

    validator()  # warm caches (grammar, compiled schemas) outside the timing
    baseline_s, validator_s = best_of(repeat, baseline, validator)
    return Result(dialect, body.count(b"\n\n"), len(body) / 1e6, baseline_s, validator_s)


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=20000, help="text deltas per stream")
    parser.add_argument("--repeat", type=int, default=9, help="runs per measurement (the best is kept)")
    args = parser.parse_args(argv)
    results = [measure(d, args.tokens, args.repeat) for d in ("anthropic", "openai")]
    print(f"SSE validator throughput (best of {args.repeat} runs, CPU time, one process)")
    print(f"{'dialect':<10} {'events':>7} {'MB':>6}  {'json.loads':>24}  {'validator':>24}  ratio")
    for r in results:
        base = f"{r.events / r.baseline_s / 1e3:7.0f}k ev/s {r.megabytes / r.baseline_s:6.1f} MB/s"
        val = f"{r.events / r.validator_s / 1e3:7.0f}k ev/s {r.megabytes / r.validator_s:6.1f} MB/s"
        verdict = "ok" if r.ratio >= 0.5 else "BELOW TARGET (0.50)"
        print(f"{r.dialect:<10} {r.events:>7} {r.megabytes:6.2f}  {base}  {val}  {r.ratio:.2f} {verdict}")
    return results


if __name__ == "__main__":
    main()
