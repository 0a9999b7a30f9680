"""What the fuzz command hands to the schemathesis process: environment variables, never files.

Keys stay out of the configuration file written to the report directory (it says ``${...}`` instead), and the
hooks module reads its settings from the same variables, so one ``env`` is the whole hand-over.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_DB_URL = "GATEWAY_CONTRACTS_FUZZ_DB_URL"
ENV_API_KEY = "GATEWAY_CONTRACTS_FUZZ_API_KEY"
ENV_INTERNAL_KEY = "GATEWAY_CONTRACTS_FUZZ_INTERNAL_KEY"
ENV_TARGET = "GATEWAY_CONTRACTS_FUZZ_TARGET"
"""What the hooks need to know of the target (its models, request id header, capture queries, whether it makes
the seed's promises), as JSON: no secret is in it."""
HOOKS_MODULE = "gateway_contracts.fuzz.hooks"

DEFAULT_API_KEY = "sk-ant-gcfuzz-client-key-0000000000000000"
"""The client key sent when none is given: a gateway without configured keys accepts any non-empty one."""
NO_INTERNAL_KEY = "gateway-contracts-fuzz-has-no-internal-key"
"""Sent as the internal key when none is given: /metrics must then refuse every request, which the run checks."""


@dataclass(frozen=True)
class TargetFacts:
    """The target, as far as the hooks need it (defaults: the seed's gateway)."""

    models: tuple[str, ...] = ()
    request_id_header: str = "request-id"
    capture_queries: tuple[tuple[str, str], ...] = ()
    ainfera: bool = True
    """Whether the target makes the seed's promises (its Anthropic envelope on every route, say)."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "models": list(self.models),
                "request_id_header": self.request_id_header,
                "capture_queries": dict(self.capture_queries),
                "ainfera": self.ainfera,
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> TargetFacts:
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            models=tuple(raw.get("models", ())),
            request_id_header=raw.get("request_id_header", "request-id"),
            capture_queries=tuple(sorted(raw.get("capture_queries", {}).items())),
            ainfera=bool(raw.get("ainfera", True)),
        )


@dataclass(frozen=True)
class HookSettings:
    db_url: str | None
    internal_key_given: bool
    target: TargetFacts = TargetFacts()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HookSettings:
        env = os.environ if env is None else env
        key = env.get(ENV_INTERNAL_KEY)
        return cls(
            db_url=env.get(ENV_DB_URL) or None,
            internal_key_given=bool(key) and key != NO_INTERNAL_KEY,
            target=TargetFacts.from_json(env.get(ENV_TARGET)),
        )


def subprocess_env(
    db_url: str | None, api_key: str, internal_key: str | None, facts: TargetFacts | None = None
) -> dict[str, str]:
    dropped = (ENV_DB_URL, ENV_API_KEY, ENV_INTERNAL_KEY, ENV_TARGET)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env[ENV_API_KEY] = api_key
    if facts is not None:
        env[ENV_TARGET] = facts.to_json()
    env[ENV_INTERNAL_KEY] = internal_key or NO_INTERNAL_KEY
    if db_url:
        env[ENV_DB_URL] = db_url
    # Unbuffered, so the child's lines and the heartbeat's come out in the order they were written (CI logs).
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
