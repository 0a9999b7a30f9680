"""Fixtures: the reference gateway on loopback (SQLite, in-process scripted upstream), and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from tests.support.servers import ServerThread

CLIENT_KEY = "sk-test-client-key-0123456789"


def start_gateway(tmp: Path, **overrides: object) -> ServerThread:
    config = GatewayConfig(db_url=f"sqlite:///{tmp / 'gateway.sqlite3'}", port=0, **overrides)  # type: ignore[arg-type]
    return ServerThread(lambda: build_app(config)).start()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = start_gateway(tmp_path_factory.mktemp("gw"))
    yield server
    server.stop()
