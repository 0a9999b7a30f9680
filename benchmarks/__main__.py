"""``python -m benchmarks``: run every benchmark in turn."""

from __future__ import annotations

import asyncio

from benchmarks import streaming_ttft


def main() -> None:
    asyncio.run(streaming_ttft.main())


if __name__ == "__main__":
    main()
