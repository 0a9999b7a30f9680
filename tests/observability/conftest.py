"""Fixtures: the reference gateway on loopback with an internal key, in front of the scripted upstream served
over real HTTP (so the upstream's ``GET /_received`` shows what the gateway sent)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reference_server.app import build_app
from reference_server.capture.store import SqlCaptureStore
from reference_server.config import GatewayConfig
from reference_server.state import STATE
from reference_server.upstream.scripted.server import build_app as build_upstream_app
from tests.observability.support import INTERNAL_KEY
from tests.support.servers import ServerThread


@dataclass
class Gateway:
    server: ServerThread
    upstream: ServerThread
    db_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> SqlCaptureStore:
        assert self.server.app is not None
        store = self.server.app[STATE].capture
        assert isinstance(store, SqlCaptureStore)
        return store


@pytest.fixture(scope="module")
def upstream() -> Iterator[ServerThread]:
    server = ServerThread(build_upstream_app).start()
    yield server
    server.stop()


def start(tmp: Path, upstream: ServerThread, **overrides: object) -> Gateway:
    tmp.mkdir(parents=True, exist_ok=True)
    db_path = tmp / "gateway.sqlite3"
    settings: dict[str, object] = {
        "db_url": f"sqlite:///{db_path}",
        "port": 0,
        "upstreams": [upstream.url],
        "internal_key": INTERNAL_KEY,
        **overrides,
    }
    config = GatewayConfig(**settings)  # type: ignore[arg-type]
    return Gateway(ServerThread(lambda: build_app(config)).start(), upstream, db_path)


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
