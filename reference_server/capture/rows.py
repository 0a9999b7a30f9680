"""Turning CallRecords into the rows of one capture batch (pure: no database, no clock).

Each call gets exactly one ``routing_outcomes`` row, two audit events (``router`` then ``outcome``) chained
onto the head the writer read under the chain lock, and exactly one ``ledger_entries`` debit (see
:mod:`reference_server.db.pricing` for what each outcome debits).

Audit payloads carry no prompt content and never the model string the client asked for: a legacy alias must
not come back out, so the ``router`` event reports the canonical model whatever was asked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reference_server.capture.types import CallRecord, CaptureReceipt
from reference_server.db.chain import canonical_json, event_hash_of_text, timestamp_text
from reference_server.db.pricing import PriceTable, debit_nusd, nusd_to_usd
from reference_server.mutants import mutated

CANONICAL_MODEL = "ainfera-inference"

Row = dict[str, Any]


@dataclass
class BatchRows:
    outcomes: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    ledger: list[Row] = field(default_factory=list)
    receipts: list[CaptureReceipt] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = ""
    balance_nusd: int = 0


def _ms(value: float | None) -> float | None:
    """Milliseconds rounded to microseconds; a non-finite value (which JSON cannot carry) becomes None."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 3)


def _utc(moment: datetime) -> datetime:
    """Aware timestamps are stored in UTC (SQLite keeps no offset); naive ones are taken to be UTC already."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC)


def router_payload(call: CallRecord, *, requested_model: bool = False) -> dict[str, Any]:
    """``requested_model`` is the ``audit-router-alias`` mutant's switch (reported model = the one asked for)."""
    return {
        "model": call.model_requested if requested_model else CANONICAL_MODEL,
        "backend": call.backend,
        "endpoint": call.endpoint,
        "stream_mode": call.stream_mode,
    }


def outcome_payload(call: CallRecord, amount_nusd: int) -> dict[str, Any]:
    return {
        "outcome": call.outcome,
        "backend": call.backend,
        "stop_reason": call.stop_reason,
        "error_type": call.error_type,
        "input_tokens": call.input_tokens,
        "output_tokens": call.output_tokens,
        "debit_nusd": amount_nusd,
        "latency_ms": _ms(call.latency_ms),
        "ttft_ms": _ms(call.ttft_ms),
    }


def build_batch(
    calls: Sequence[CallRecord],
    *,
    head_seq: int,
    head_hash: str,
    balance_nusd: int,
    prices: PriceTable,
    now: datetime,
) -> BatchRows:
    """The rows for ``calls``, chained after (``head_seq``, ``head_hash``), the ledger after
    ``balance_nusd``."""
    rows = BatchRows(head_seq=head_seq, head_hash=head_hash, balance_nusd=balance_nusd)
    # Mutant switches, read once per batch (never per row).
    fork, seq_gap = mutated("batch-chain-fork"), mutated("audit-seq-gap")
    unaudited_streams, skip_zero = mutated("stream-not-audited"), mutated("zero-debit-skipped")
    alias_router = mutated("audit-router-alias")
    now_text = timestamp_text(now)  # every event of the batch is hashed with the same created_at
    for call in calls:
        if fork:
            rows.head_hash = head_hash
        price = prices.price_for(call.backend)
        amount = debit_nusd(call.outcome, price, call.input_tokens, call.output_tokens)
        rows.balance_nusd += amount
        rows.outcomes.append(
            {
                "request_id": call.request_id,
                "trace_id": call.trace_id,
                "endpoint": call.endpoint,
                "model_requested": call.model_requested,
                "model_canonical": call.model_canonical,
                "backend": call.backend,
                "outcome": call.outcome,
                "stream_mode": call.stream_mode,
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "cost_nusd": amount,
                "cost_usd": nusd_to_usd(amount),
                "latency_ms": _ms(call.latency_ms) or 0.0,
                "ttft_ms": _ms(call.ttft_ms),
                "stop_reason": call.stop_reason,
                "error_type": call.error_type,
                "started_at": _utc(call.started_at),
                "created_at": now,
            }
        )
        seqs: tuple[int, ...] = ()
        if not (unaudited_streams and call.stream_mode != "none"):
            seqs = (
                _append_event(
                    rows, call, "router", router_payload(call, requested_model=alias_router), now, now_text
                ),
                _append_event(rows, call, "outcome", outcome_payload(call, amount), now, now_text),
            )
        if seq_gap:
            rows.head_seq += 1
        rows.ledger.append(
            {
                "request_id": call.request_id,
                "trace_id": call.trace_id,
                "backend": call.backend,
                "entry_type": "debit",
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "input_nusd_per_token": price.input_nusd_per_token,
                "output_nusd_per_token": price.output_nusd_per_token,
                "amount_nusd": amount,
                "amount_usd": nusd_to_usd(amount),
                "balance_nusd": rows.balance_nusd,
                "created_at": now,
            }
        )
        if skip_zero and amount == 0:
            rows.ledger.pop()
        rows.receipts.append(CaptureReceipt(call.request_id, nusd_to_usd(amount), seqs))
    if mutated("batch-drops-ledger") and len(calls) > 1:
        rows.ledger.pop()  # the mutant: a batch of concurrent calls loses its last debit
    return rows


def _append_event(
    rows: BatchRows, call: CallRecord, kind: str, payload: dict[str, Any], now: datetime, now_text: str
) -> int:
    seq = rows.head_seq + 1
    text = canonical_json(payload)
    digest = event_hash_of_text(
        seq=seq,
        request_id=call.request_id,
        trace_id=call.trace_id,
        kind=kind,
        payload=text,
        created_at_text=now_text,
        prev_hash=rows.head_hash,
    )
    rows.events.append(
        {
            "seq": seq,
            "request_id": call.request_id,
            "trace_id": call.trace_id,
            "kind": kind,
            "payload": text,
            "created_at": now,
            "prev_hash": rows.head_hash,
            "hash": digest,
        }
    )
    rows.head_seq, rows.head_hash = seq, digest
    return seq
