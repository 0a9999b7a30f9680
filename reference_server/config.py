"""Gateway configuration: everything ``reference-gateway serve`` can set, with the embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(os.environ.get("GATEWAY_CONTRACTS_DATA", "data"))


def default_db_url() -> str:
    return f"sqlite:///{(DEFAULT_DATA_DIR / 'gateway.sqlite3').as_posix()}"


@dataclass
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    db_url: str = field(default_factory=default_db_url)
    upstreams: list[str] = field(default_factory=lambda: ["scripted"])
    """``scripted`` (in-process), ``URL`` (every backend at one base URL) or ``SLUG=URL`` (one backend)."""
    default_backend: str = "anthropic"
    internal_key: str | None = None
    client_keys: tuple[str, ...] = ()
    """API keys clients must present; empty means any non-empty key is accepted (the embedded default)."""
    log_file: Path | None = None
    max_body_bytes: int = 1024 * 1024
    kill_switch_usd: float | None = None
    agent_id: str = "ainfera-gateway"
    public_url: str | None = None
    header_timeout_s: float = 20.0
    """How long a connection may take to deliver a complete request head, from connecting or from its previous
    answer; then it is closed (also the idle keep-alive timeout). ``reference_server.http_edge``."""
    body_timeout_s: float = 30.0
    """How long reading a request body may take in all; then the answer is 408 and the connection closes."""

    def __post_init__(self) -> None:
        # An empty internal key would be a key anyone can present: treat it as no key (/metrics closed).
        if not self.internal_key:
            self.internal_key = None
