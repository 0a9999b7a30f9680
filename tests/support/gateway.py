"""The reference gateway on loopback for tests: SQLite, the in-process scripted upstream, one client key."""

from __future__ import annotations

from pathlib import Path

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from tests.support.servers import ServerThread

CLIENT_KEY = "sk-test-client-key-0123456789"


def start_gateway(tmp: Path, **overrides: object) -> ServerThread:
    """A gateway whose database lives under ``tmp``; ``overrides`` are ``GatewayConfig`` fields."""
    config = GatewayConfig(db_url=f"sqlite:///{tmp / 'gateway.sqlite3'}", port=0, **overrides)  # type: ignore[arg-type]
    return ServerThread(lambda: build_app(config)).start()
