"""A target: how to reach a gateway, how to talk to it, and what it offers.

Built from the target file and flags (``gateway_contracts.target.config``), and once more with the ready line of
its start command when the harness starts it (``gateway_contracts.target.start``). A test declares what it *needs* (``@pytest.mark.needs("db")``); :meth:`Target.lacks` says why a target
cannot meet a need, and the test is then skipped with that reason, never failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway_contracts.target.options import FEATURES, SURFACES

if TYPE_CHECKING:
    from gateway_contracts.target.config import Inputs

DEFAULT_BODY_LIMIT = 32 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0

# What a test can need, beyond a surface ("surface:messages") or a feature (FEATURES): each with the reason a
# target that lacks it is skipped, naming the flag and the file key that would give it.
NEEDS_REASONS = {
    "db": "needs the gateway's database (--db-url, capture.db_url)",
    "logs": "needs the gateway's JSON-lines log (--log-file, logs.file)",
    "metrics": "needs the metrics endpoint's key (--internal-key, metrics.key) or --metrics-auth none",
    "metrics-keyed": "the target's metrics endpoint is public (--metrics-auth none)",
    "auth-enforced": "the target does not declare that it enforces client keys (--auth-enforced, auth.enforced)",
    "request-id": "the target has no request id header (--request-id-header, request_id.header)",
    "trace": "the target does not claim W3C trace propagation (--trace, trace.propagates)",
    "aliases": "the target declares no model aliases (--alias, models.aliases)",
}
KNOWN_NEEDS = frozenset(NEEDS_REASONS) | {f"surface:{s}" for s in SURFACES} | set(FEATURES)


@dataclass(frozen=True)
class Target:
    base_url: str
    name: str = "gateway"
    embedded: bool = False
    """Started by the harness (its start command): a throwaway instance, whose URLs a reproduction cannot reuse."""
    start: tuple[str, ...] = ()
    """The command that starts it, until it is started (``gateway_contracts.target.start``)."""
    start_timeout: float = 120.0
    timeout: float = DEFAULT_TIMEOUT
    body_limit: int = DEFAULT_BODY_LIMIT
    profiles: tuple[str, ...] = ()
    """The profiles to check; empty means the generic ones."""
    api_key: str = ""
    auth: str = "x-api-key"
    auth_enforced: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    route_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    messages_model: str = ""
    chat_model: str = ""
    aliases: tuple[str, ...] = ()
    unknown_model: str = "gateway-contracts-no-such-model"
    surfaces: frozenset[str] = frozenset({"messages", "chat-completions"})
    metrics_path: str = "/metrics"
    internal_key: str | None = None
    metrics_auth: str = "bearer"
    route_templates: tuple[str, ...] = ()
    request_id_header: str = "request-id"
    request_id_log_field: str = "request_id"
    trace: bool = True
    log_file: Path | None = None
    db_url: str | None = None
    capture_queries: dict[str, str] = field(default_factory=dict)
    features: frozenset[str] = frozenset()
    upstream_url: str | None = None
    kill_switch_url: str | None = None
    kill_switch_db_url: str | None = None
    given: dict[str, Any] = field(default_factory=dict)
    """What the user gave, for the report: option key → value (a secret's source, never its value)."""
    inputs: Inputs | None = field(default=None, compare=False, repr=False)
    """The file and flags it was resolved from: a started target is resolved again with its ready line."""

    # -- what it offers -----------------------------------------------------------------------------------
    @property
    def metrics_enabled(self) -> bool:
        return bool(self.internal_key) or self.metrics_auth == "none"

    def lacks(self, need: str) -> str | None:
        """Why this target cannot meet ``need``, or None when it can."""
        if need.startswith("surface:"):
            surface = need.removeprefix("surface:")
            if surface in self.surfaces:
                return None
            return f"the target does not serve {surface} (--surface, surfaces)"
        if need in FEATURES:
            if need not in self.features:
                return f"gateway feature not offered: {need} (--feature, features.offered)"
            if need == "upstream-echo" and not self.upstream_url:
                return "upstream-echo needs the scripted upstream's URL (--upstream-url)"
            if need == "kill-switch" and not self.kill_switch_url:
                return "kill-switch needs an engaged instance (--kill-switch-url)"
            return None
        offered = {
            "db": bool(self.db_url),
            "logs": self.log_file is not None,
            "metrics": self.metrics_enabled,
            "metrics-keyed": self.metrics_auth != "none",
            "auth-enforced": self.auth_enforced,
            "request-id": bool(self.request_id_header),
            "trace": self.trace,
            "aliases": bool(self.aliases),
        }
        return None if offered[need] else NEEDS_REASONS[need]

    def check_args(self) -> list[str]:
        """The ``check``/``fuzz`` flags that describe this target (secrets included: for child processes)."""
        from gateway_contracts.target.flags import to_flags

        return to_flags(self)

    # -- how to talk to it --------------------------------------------------------------------------------
    def auth_headers(self, key: str | None = None) -> dict[str, str]:
        """The client key in the target's auth style (``key`` overrides the configured one)."""
        value = self.api_key if key is None else key
        return credential_header(self.auth, value)

    def metrics_headers(self, key: str | None = None) -> dict[str, str]:
        value = self.internal_key or "" if key is None else key
        if self.metrics_auth == "none":
            return {}
        return credential_header(self.metrics_auth, value)

    def headers_for(self, path: str) -> dict[str, str]:
        """The configured headers for a call to ``path``: the global ones, then the route's."""
        route = path.split("?", 1)[0]
        return {**self.headers, **self.route_headers.get(route, {})}

    def model_for(self, path: str) -> str:
        return self.chat_model if path.startswith("/v1/chat/completions") else self.messages_model

    def request_id(self, response: Any) -> str | None:
        """The call's request id, from the configured header of an httpx response."""
        if not self.request_id_header:
            return None
        value = response.headers.get(self.request_id_header)
        return str(value) if value else None


def credential_header(style: str, value: str) -> dict[str, str]:
    """``x-api-key`` → ``{x-api-key: v}``; ``bearer`` → ``{authorization: Bearer v}``; ``header:N`` → ``{N: v}``."""
    if style == "bearer":
        return {"authorization": f"Bearer {value}"}
    if style.startswith("header:"):
        return {style.removeprefix("header:"): value}
    return {"x-api-key": value}
