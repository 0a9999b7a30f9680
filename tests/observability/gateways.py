"""The reference gateway the observability tests watch: on loopback with an internal key, in front of the
scripted upstream served over real HTTP (so the upstream's ``GET /_received`` shows what the gateway sent)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reference_server.app import build_app
from reference_server.config import GatewayConfig
from tests.observability.support import INTERNAL_KEY
from tests.support.gateway import RunningGateway
from tests.support.servers import ServerThread


@dataclass
class Gateway(RunningGateway):
    upstream: ServerThread
    db_path: Path


def start(tmp: Path, upstream: ServerThread, **overrides: object) -> Gateway:
    """A gateway of its own under ``tmp``; ``overrides`` are ``GatewayConfig`` fields."""
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
