"""Fixtures: the reference gateway on loopback with an internal key, in front of the scripted upstream served
over real HTTP (tests.observability.gateways)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.observability.gateways import Gateway, start
from tests.support.servers import ServerThread


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    server = ServerThread(build_upstream_app).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, upstream: ServerThread) -> Iterator[Gateway]:
    gw = start(tmp_path_factory.mktemp("obs"), upstream)
    yield gw
    gw.server.stop()


@pytest.fixture
def fresh_gateway(tmp_path: Path, upstream: ServerThread) -> Iterator[Gateway]:
    """A gateway of its own, for tests that count exactly (no traffic from other tests in between)."""
    gw = start(tmp_path, upstream)
    yield gw
    gw.server.stop()
