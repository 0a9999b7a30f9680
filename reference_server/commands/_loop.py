"""The event loop a server command runs on: uvloop where it is installed, else asyncio's own.

The reference gateway spends most of a call's CPU in one event-loop thread, and under load that thread is what
limits it. uvloop (libuv, the loop's I/O callbacks and transports in C) does the same protocol work as the
default loop for less CPU: ``python -m benchmarks.event_loop`` measures the gateway on both in one run, about
8% more non-streamed calls per second on uvloop, little difference streamed (docs/benchmarks.md). The loop changes nothing a client or the contract can
see; a user who suspects it can run asyncio's own loop with ``--loop asyncio``.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from contracts.exits import EXIT_USAGE, CliError

LOOPS = ("auto", "uvloop", "asyncio")
LOOP_HELP = "event loop: uvloop (the default where installed: less CPU per call) or asyncio's own"
_T = TypeVar("_T")


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory for ``asyncio.Runner`` (``None``: asyncio's default loop); ``auto`` takes uvloop if it is
    installed. Asking for uvloop where it is not installed is a usage error, not a silent fallback."""
    if choice not in LOOPS:
        raise CliError(f"unknown event loop {choice!r}: choose one of {', '.join(LOOPS)}", EXIT_USAGE)
    if choice == "asyncio":
        return None
    if importlib.util.find_spec("uvloop") is None:
        if choice == "uvloop":
            raise CliError(
                "--loop uvloop: uvloop is not installed (pip install uvloop), or use --loop asyncio",
                EXIT_USAGE,
            )
        return None
    try:
        import uvloop
    except ImportError as exc:  # installed but broken (say, built for another Python)
        if choice == "uvloop":
            raise CliError(
                f"--loop uvloop: uvloop cannot be imported ({exc}); use --loop asyncio", EXIT_USAGE
            ) from None
        return None
    return uvloop.new_event_loop


def run(main: Callable[[], Coroutine[Any, Any, _T]], choice: str = "auto") -> _T:
    """``asyncio.run(main())`` on the chosen loop. ``main`` is called only once the loop is chosen, so a bad
    choice leaves no coroutine that was never awaited."""
    factory = loop_factory(choice)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.get_loop()  # the loop exists before the coroutine does
        return runner.run(main())


def running_loop_name() -> str:
    """``uvloop`` or ``asyncio``: the loop this coroutine runs on, as the process reports it in its logs."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
