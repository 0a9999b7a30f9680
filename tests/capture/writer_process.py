"""A capture writer in its own OS process, for the multi-process tests.

``python -m tests.capture.writer_process DB_URL PREFIX COUNT WAVE``: starts a store, prints ``ready``, waits
for ``go`` on stdin, records COUNT calls in waves of WAVE concurrent calls, closes, prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys

from reference_server.capture.store import SqlCaptureStore
from tests.capture.support import make_call


async def main(db_url: str, prefix: str, count: int, wave: int) -> int:
    store = SqlCaptureStore(db_url)
    await store.start()
    print("ready", flush=True)
    if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
        await store.close()
        return 2
    seqs: list[int] = []
    for start in range(0, count, wave):
        batch = [make_call(f"{prefix}_{i:04d}") for i in range(start, min(start + wave, count))]
        receipts = await asyncio.gather(*(store.record(call) for call in batch))
        seqs.extend(seq for receipt in receipts for seq in receipt.audit_seqs)
    await store.close()
    summary = {
        "records": store.records_committed,
        "batches": store.batches_committed,
        "seqs": seqs,
        "dispatch_without_capture": store.dispatch_without_capture,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    url, prefix, count, wave = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sys.exit(asyncio.run(main(url, prefix, count, wave)))
