"""The fixed set-up the network benchmarks share: where everything listens, what a call carries, time bounds."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""This checkout: servers run from here with it first on ``PYTHONPATH``."""
HOST = "127.0.0.1"
"""Every server listens on loopback and every call goes there: no benchmark sends traffic anywhere else."""
CLI = ["-m", "reference_server"]
"""``python CLI ...`` runs ``gateway-contracts`` from the interpreter running the benchmark."""
CLIENT_KEY = "bench-client-key"
MODEL = "ainfera-inference"
"""The model every call asks for: the reference gateway's canonical model. The scripted upstream is started to
serve it too (``--model``), so that a relay that forwards the body unchanged (the proxy, Portkey) gets the same
answer the gateway gets for its translated call."""
HIGH_CONCURRENCY = 32
TARGET_RATIO = 0.60
"""Gateway requests/s at concurrency 32 as a share of the proxy's, streamed and non-streamed."""
TTFT_BUDGET_MS = 2.0
"""Time to first token the gateway may add at the median, at concurrency 1."""
SLOW_DIRECTIVE = "text_tokens=40; chunk=2; latency_ms=25"
"""A slow upstream: 20 deltas, 25 ms apart (a relay that buffered the stream would show its first delta at
about the stream's end)."""
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
CELL_TIMEOUT_S = 120.0
"""No single measurement may run longer than this: a benchmark stops by itself."""
