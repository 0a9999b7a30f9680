"""What the fuzz command hands to the schemathesis process: environment variables, never files.

Keys stay out of the configuration file written to the report directory (it says ``${...}`` instead), and the
hooks module reads its settings from the same variables, so one ``env`` is the whole hand-over.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

ENV_DB_URL = "GATEWAY_CONTRACTS_FUZZ_DB_URL"
ENV_API_KEY = "GATEWAY_CONTRACTS_FUZZ_API_KEY"
ENV_INTERNAL_KEY = "GATEWAY_CONTRACTS_FUZZ_INTERNAL_KEY"
HOOKS_MODULE = "gateway_contracts.fuzz.hooks"

DEFAULT_API_KEY = "sk-ant-gcfuzz-client-key-0000000000000000"
"""The client key sent when none is given: a gateway without configured keys accepts any non-empty one."""
NO_INTERNAL_KEY = "gateway-contracts-fuzz-has-no-internal-key"
"""Sent as the internal key when none is given: /metrics must then refuse every request, which the run checks."""


@dataclass(frozen=True)
class HookSettings:
    db_url: str | None
    internal_key_given: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HookSettings:
        env = os.environ if env is None else env
        key = env.get(ENV_INTERNAL_KEY)
        return cls(
            db_url=env.get(ENV_DB_URL) or None, internal_key_given=bool(key) and key != NO_INTERNAL_KEY
        )


def subprocess_env(db_url: str | None, api_key: str, internal_key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (ENV_DB_URL, ENV_API_KEY, ENV_INTERNAL_KEY)}
    env[ENV_API_KEY] = api_key
    env[ENV_INTERNAL_KEY] = internal_key or NO_INTERNAL_KEY
    if db_url:
        env[ENV_DB_URL] = db_url
    # Unbuffered, so the child's lines and the heartbeat's come out in the order they were written (CI logs).
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
