"""``python -m benchmarks``: run every benchmark in turn (each prints its own same-run baseline)."""

from __future__ import annotations

import asyncio

from benchmarks import (
    capture_store,
    check_time,
    event_loop,
    gateway_cost,
    gateway_vs_peers,
    gateway_vs_proxy,
    scrubber,
    sse_validator,
)


def main() -> None:
    asyncio.run(gateway_vs_proxy.main())
    print()
    asyncio.run(gateway_vs_peers.main())
    print()
    asyncio.run(gateway_cost.main())
    print()
    asyncio.run(event_loop.main())
    print()
    asyncio.run(capture_store.main())
    print()
    scrubber.main()
    print()
    sse_validator.main([])
    print()
    check_time.main()


if __name__ == "__main__":
    main()
