"""Running a benchmark from the command line: a failure is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from benchmarks.support.load import BadAnswer

_T = TypeVar("_T")


def run(main: Callable[[], Coroutine[Any, Any, _T]], who: str) -> _T:
    """``asyncio.run(main())``; a call that could not be counted or a server that would not start ends the
    run with ``who: what happened`` (exit status 1), an interrupt with status 130."""
    try:
        return asyncio.run(main())
    except (BadAnswer, RuntimeError) as exc:
        raise SystemExit(f"{who}: {exc}") from None
    except KeyboardInterrupt:
        sys.exit(130)
