"""Scrubber evaluation: how many secrets it catches, how many innocent lines it wrongly redacts, and what it costs,
beside the seed's plain regex approach and beside unscrubbed JSON formatting, in the same process.

Corpus: ``fixtures/scrub_corpus`` (fake secrets of many families and innocent look-alikes, generated from a fixed
seed). A secret is *caught* when no fragment of it (``max(6, min(12, len/2))`` characters) survives the
scrubbed line: redacting ``sk-proj`` and leaving the rest of the key is a miss. An innocent line is *wrongly
redacted* when the scrubbed line differs from it at all.

The seed's approach, reproduced: its nine keys compared lower-cased (``api_key``, ``password``, ``secret``,
``token``, ``authorization``, ``cookie``, ``prompt``, ``messages``, ``content``) on structured fields, and its four
regexes (``ai_infera_*``, ``sk-*``, ``Bearer *``, JWT) on text. Both scrubbers see each line the same way: a JSON
line as its parsed structure, any other line as text.

Throughput: two workloads, log records built from the corpus lines (dense with secrets) and the access lines a
gateway mostly writes (clean, a fresh request id and trace id each), formatted by (a) a plain JSON formatter
(``json.dumps`` of the same fields, no scrubbing), (b) the seed's approach in the same formatter, (c) the
gateway's ``JsonLogFormatter``. No assertion on timings anywhere: this prints, it does not judge.

Run: ``python -m benchmarks.scrubber [--rounds N]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from contracts.scrub import default_scrubber
from contracts.scrub.lines import scrub_line
from reference_server.observability.logging_setup import JsonLogFormatter

CORPUS_GENERATOR = Path(__file__).resolve().parents[1] / "fixtures" / "scrub_corpus" / "generate.py"

SEED_PATTERNS = [
    re.compile(r"ai_infera_[A-Za-z0-9]+"),
    re.compile(r"sk-[A-Za-z0-9]+"),
    re.compile(r"Bearer [A-Za-z0-9._-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"),
]
SEED_KEYS = frozenset(
    {"api_key", "password", "secret", "token", "authorization", "cookie", "prompt", "messages", "content"}
)
SEED_MARK = "[REDACTED]"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scrub_corpus_generate", CORPUS_GENERATOR)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {CORPUS_GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- the seed's approach -------------------------------------------------------------------------------------


def seed_text(text: str) -> str:
    for pattern in SEED_PATTERNS:
        text = pattern.sub(SEED_MARK, text)
    return text


def seed_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: SEED_MARK if str(k).lower() in SEED_KEYS else seed_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [seed_value(v) for v in value]
    if isinstance(value, str):
        return seed_text(value)
    return value


def seed_line(line: str) -> str:
    try:
        parsed = json.loads(line)
    except ValueError:
        return seed_text(line)
    if not isinstance(parsed, (dict, list)):
        return seed_text(line)
    scrubbed = seed_value(parsed)
    return line if scrubbed == parsed else json.dumps(scrubbed, separators=(",", ":"))


# --- quality -------------------------------------------------------------------------------------------------


def leaked(secret: str, output: str) -> bool:
    width = max(6, min(12, len(secret) // 2))
    return any(secret[i : i + width] in output for i in range(len(secret) - width + 1))


def evaluate(entries: list[Any], scrub: Callable[[str], str]) -> tuple[float, float, Counter[str], list[Any]]:
    secrets = [e for e in entries if e.kind == "secret"]
    innocents = [e for e in entries if e.kind == "innocent"]
    missed = Counter(e.family for e in secrets if leaked(e.value, scrub(e.line)))
    wrong = [e for e in innocents if scrub(e.line) != e.line]
    recall = 1 - sum(missed.values()) / len(secrets)
    return recall, len(wrong) / len(innocents), missed, wrong


# --- throughput ----------------------------------------------------------------------------------------------


def records(entries: list[Any]) -> list[logging.LogRecord]:
    """One log record per corpus line: a JSON line becomes a message with extras, a text line a message."""
    out = []
    for e in entries:
        record = logging.LogRecord("bench", logging.INFO, __file__, 1, e.line, None, None)
        if e.format == "json":
            parsed = json.loads(e.line)
            record.msg = str(parsed.pop("message", "event"))
            for key, value in parsed.items():
                if key not in ("level", "logger"):
                    setattr(record, key, value)
        out.append(record)
    return out


_BASE = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def access_records(n: int) -> list[logging.LogRecord]:
    """What a gateway mostly logs: clean access lines, each with a fresh request id and trace id."""
    rng = random.Random(7)
    out = []
    for _ in range(n):
        record = logging.LogRecord(
            "aiohttp.access", logging.INFO, __file__, 1, "%s %s %s", ("POST", "/v1/messages", 200), None
        )
        extra = {
            "event": "http.access", "method": "POST", "path": "/v1/messages", "query_params": [], "status": 200,
            "duration_seconds": round(rng.random(), 6), "bytes_sent": rng.randint(200, 4000),
            "user_agent": "Anthropic/Python 0.40.0", "route": "/v1/messages",
            "request_id": f"req_{rng.getrandbits(96):024x}", "trace_id": f"{rng.getrandbits(128):032x}",
        }  # fmt: skip
        for key, value in extra.items():
            setattr(record, key, value)
        out.append(record)
    return out


class PlainJsonFormatter(logging.Formatter):
    """The baseline: the same fields as the gateway's lines, ``json.dumps``, no scrubbing."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None,
            "trace_id": None,
        }
        out.update((k, v) for k, v in vars(record).items() if k not in _BASE)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=str)


class SeedJsonFormatter(PlainJsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        line = json.loads(super().format(record))
        line["message"] = seed_text(line["message"])
        return json.dumps(seed_value(line), ensure_ascii=False, separators=(",", ":"))


def lines_per_second(formatter: logging.Formatter, batch: list[logging.LogRecord], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        # Fresh records every round: the gateway's formatter keeps a record's line on the record (one record,
        # several handlers), so formatting the same objects again would time a cache hit.
        fresh = [logging.makeLogRecord(dict(vars(record))) for record in batch]
        start = time.perf_counter()
        for record in fresh:
            formatter.format(record)
        best = min(best, time.perf_counter() - start)
    return len(batch) / best


def main(rounds: int = 7) -> None:
    gen = load_generator()
    entries = gen.entries()
    scrubber = default_scrubber()
    secrets = [e for e in entries if e.kind == "secret"]
    print(
        f"scrubber evaluation — corpus seed {gen.SEED}: {len(secrets)} fake secrets from "
        f"{len({e.family for e in secrets})} families, {len(entries) - len(secrets)} innocent look-alikes"
    )
    results = {
        "seed's 4 regexes + 9 keys": evaluate(entries, seed_line),
        "contracts.scrub": evaluate(entries, lambda line: scrub_line(scrubber, line)),
    }
    print(f"{'scrubber':<28}{'caught':>10}{'wrongly redacted':>20}")
    for name, (recall, fp_rate, _, _) in results.items():
        print(f"{name:<28}{recall:>10.1%}{fp_rate:>20.1%}")
    for name, (_, _, missed, wrong) in results.items():
        if missed:
            worst = ", ".join(f"{family} {n}" for family, n in missed.most_common())
            print(f"  {name} missed: {worst}")
        if wrong:
            print(f"  {name} wrongly redacted: {', '.join(sorted({e.family for e in wrong}))}")

    workloads = {
        "corpus lines (secret-dense)": records(entries) * 20,
        "gateway access lines (clean)": access_records(8000),
    }
    formatters: dict[str, logging.Formatter] = {
        "plain json.dumps (no scrubbing)": PlainJsonFormatter(),
        "seed's approach": SeedJsonFormatter(),
        "JsonLogFormatter (scrubbing)": JsonLogFormatter(scrubber),
    }
    for workload, batch in workloads.items():
        print(f"\nthroughput — {workload}: {len(batch)} log records per round, best of {rounds} rounds")
        print(f"{'formatter':<36}{'lines/s':>12}{'vs plain':>10}")
        plain = 0.0
        for name, formatter in formatters.items():
            rate = lines_per_second(formatter, batch, rounds)
            plain = plain or rate
            print(f"{name:<36}{rate:>12,.0f}{rate / plain:>10.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=7)
    main(p.parse_args().rounds)
