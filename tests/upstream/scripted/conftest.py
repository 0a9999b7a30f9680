"""Fixtures: the scripted upstream's HTTP server on a free loopback port, and a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from reference_server.upstream.scripted.server import start_server


@pytest.fixture
async def upstream() -> AsyncIterator[str]:
    runner, port = await start_server()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
