"""``python -m benchmarks``: run every benchmark in turn (each prints its own same-run baseline)."""

from __future__ import annotations

import asyncio

from benchmarks import capture_throughput, check_time, scrubber, sse_validator, streaming_ttft


def main() -> None:
    asyncio.run(streaming_ttft.main())
    print()
    asyncio.run(capture_throughput.main())
    print()
    scrubber.main()
    print()
    sse_validator.main([])
    print()
    check_time.main()


if __name__ == "__main__":
    main()
