"""The reference gateway on loopback for tests: SQLite, the in-process scripted upstream, one client key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reference_server.app import build_app
from reference_server.capture.store import SqlCaptureStore
from reference_server.config import GatewayConfig
from reference_server.state import STATE
from tests.support.servers import ServerThread

CLIENT_KEY = "sk-test-client-key-0123456789"


def start_gateway(tmp: Path, **overrides: object) -> ServerThread:
    """A gateway whose database lives under ``tmp``; ``overrides`` are ``GatewayConfig`` fields."""
    config = GatewayConfig(db_url=f"sqlite:///{tmp / 'gateway.sqlite3'}", port=0, **overrides)  # type: ignore[arg-type]
    return ServerThread(lambda: build_app(config)).start()


def capture_store(server: ServerThread) -> SqlCaptureStore:
    """The capture store of a reference gateway running in ``server``."""
    assert server.app is not None
    store = server.app[STATE].capture
    assert isinstance(store, SqlCaptureStore)
    return store


@dataclass
class RunningGateway:
    """A reference gateway running in a server thread: its URL and its capture store."""

    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> SqlCaptureStore:
        return capture_store(self.server)
