"""Rounds: every server gets the same calls, one after the other, the order rotated from round to round so
that none always runs first on a warmer (or last on a busier) machine. Run-to-run drift on a shared machine is
larger than most of what is measured, so only figures from the same run are compared."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from benchmarks.support.load import Sample, load
from benchmarks.support.processes import Server
from benchmarks.support.settings import HIGH_CONCURRENCY

_T = TypeVar("_T")


def round_order(items: Sequence[_T], r: int) -> list[_T]:
    """``items`` rotated by ``r``: each goes first once every ``len(items)`` rounds (for two: alternating)."""
    k = r % len(items) if items else 0
    return [*items[k:], *items[:k]]


async def warm_up(servers: Sequence[Server], requests: int, stream: bool = False) -> None:
    """A tenth of a round (at least 50 calls) to each server: connection pools, caches, first-call imports."""
    for server in servers:
        await load(server, max(50, requests // 10), HIGH_CONCURRENCY, stream)


async def alternating_rounds(
    servers: Sequence[Server],
    requests: int,
    rounds: int,
    stream: bool,
    *,
    generator: str = "raw",
    label: str = "round",
    who: str = "benchmarks",
) -> list[list[Sample]]:
    """``rounds`` rounds of ``requests`` calls at concurrency 32 to every server (see :func:`round_order`),
    each server's CPU per call measured. Returns the samples per server, in the order of ``servers``. Without
    ``/proc`` (not Linux) the CPU cannot be read: ``who`` exits with one line."""
    samples: list[list[Sample]] = [[] for _ in servers]
    for r in range(rounds):
        print(f"  {label} {r + 1}/{rounds}", flush=True)
        for i, server in round_order(list(enumerate(servers)), r):
            sample = await load(
                server, requests, HIGH_CONCURRENCY, stream, measure_cpu=True, generator=generator
            )
            if sample.cpu_ms_per_call is None:
                raise SystemExit(f"{who}: no /proc/<pid>/stat to read the servers' CPU (Linux only)")
            samples[i].append(sample)
    return samples


@dataclass(frozen=True)
class Cell:
    """One kind of call: streamed or not, at one concurrency, this many calls per server per round."""

    stream: bool
    concurrency: int
    requests: int

    @property
    def label(self) -> str:
        return f"{'streamed' if self.stream else 'non-streamed'}, conc {self.concurrency}"


def standard_cells(requests: int, low: int) -> list[Cell]:
    """Non-streamed and streamed, at concurrency 1 (``low`` calls) and 32 (``requests`` calls)."""
    return [
        Cell(stream, concurrency, low if concurrency == 1 else requests)
        for stream in (False, True)
        for concurrency in (1, HIGH_CONCURRENCY)
    ]


@dataclass
class Results:
    """Every sample of a run, by cell and server name."""

    runs: dict[tuple[Cell, str], list[Sample]] = field(default_factory=dict)

    def add(self, cell: Cell, target: str, sample: Sample) -> None:
        self.runs.setdefault((cell, target), []).append(sample)

    def best_rate(self, cell: Cell, target: str) -> float:
        return max(s.rate for s in self.runs[(cell, target)])

    def median_rate(self, cell: Cell, target: str) -> float:
        return statistics.median(s.rate for s in self.runs[(cell, target)])

    def cpu_ms(self, cell: Cell, target: str) -> float | None:
        """The median over rounds of the server's CPU per call."""
        values = [s.cpu_ms_per_call for s in self.runs[(cell, target)] if s.cpu_ms_per_call is not None]
        return statistics.median(values) if values else None

    def latencies(self, cell: Cell, target: str) -> list[float]:
        """Every round's latencies pooled (time to first token for a streamed cell)."""
        return [x for s in self.runs[(cell, target)] for x in s.latencies_ms]

    def totals(self, cell: Cell, target: str) -> list[float]:
        return [x for s in self.runs[(cell, target)] for x in s.totals_ms]
