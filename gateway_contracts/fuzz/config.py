"""The ``schemathesis.toml`` of a fuzz run: written to the report directory, so the run can be read and repeated.

Everything here is documented schemathesis configuration. The notable choices:

* the contract checks come in through ``hooks``; schemathesis' own ``positive_data_acceptance`` is replaced by
  ``valid_data_accepted``, which knows the contract's semantic refusals (``refusals.py``);
* ``ignored_auth`` runs on ``/metrics`` always (the internal key is mandatory there); on the public operations
  only when the user gave a real client key, since a gateway without configured keys accepts any key by design;
* ``max-stream-events`` is raised so a stream is read whole, not cut at schemathesis' default of 20 events;
* output sanitization keeps credentials masked but not ``max_tokens``: the default markers treat anything
  containing "token" as a secret, which would hide the very field a reproduction most often needs;
* fuzz dictionaries steer the model towards the ones the gateway serves (else nearly every positive call is an
  unknown-model 404 and nothing is routed) and plant canary secrets in fields that are not prompt content;
* no example database and no crash cache: a run replays nothing from earlier runs, so one seed means one
  request sequence (and nothing lands in a ``.schemathesis`` directory of the working tree).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway_contracts.conformance.requests import ALIASES, CANONICAL
from gateway_contracts.fuzz import canaries, streams
from gateway_contracts.fuzz.settings import ENV_API_KEY, ENV_INTERNAL_KEY, HOOKS_MODULE

SANITIZED_KEYS = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x_api_key",
    "api-key",
    "api_key",
    "apikey",
    "x-ainfera-internal-key",
    "cookie",
    "set-cookie",
    "password",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
)
SENSITIVE_MARKERS = (
    "password",
    "passwd",
    "secret",
    "credential",
    "api-key",
    "api_key",
    "apikey",
    "internal-key",
)
"""Substrings that mark a key as secret. Deliberately not "token" (``max_tokens``) nor "key" (``input_schema``'s
``keys``, ``tool_use``'s ``input`` keys): the exact names above cover the real credentials."""

MODEL_PROBABILITY = 0.75
"""Share of generated requests that name a served model; the rest exercise the unknown-model 404."""
CANARY_PROBABILITY = 0.5
CANARY_FIELDS = (
    # Fields a canary makes invalid (an enum, numbers): schemathesis puts it there in negative mode only, and the
    # gateway must refuse the value without quoting it back. Free-text fields that are not prompt content carry
    # canaries in positive mode too. Prompt content never does: a model may repeat its prompt.
    "body.messages[*].role",
    "body.max_tokens",
    "body.temperature",
    "body.metadata.user_id",
    "body.user",
    "header.anthropic-version",
)


@dataclass(frozen=True)
class RunConfig:
    max_examples: int
    """Test cases per operation in the fuzzing phase (``--max-examples``)."""
    request_timeout: float
    enforce_client_auth: bool
    """True when the user gave a client key: the gateway is then expected to refuse any other."""

    @property
    def stateful_scenarios(self) -> int:
        # A scenario is up to 6 linked calls; a fifth as many scenarios as fuzz cases keeps the phases in step.
        return max(5, self.max_examples // 5)


def render(config: RunConfig) -> str:
    lines = [
        "# Written by `gateway-contracts fuzz`; keys come from the environment, never from this file.",
        f"hooks = {_value(HOOKS_MODULE)}",
        f"max-stream-events = {streams.MAX_STREAM_EVENTS}",
        f"request-timeout = {_value(config.request_timeout)}",
        "",
        "[cache]",
        "enabled = false",
        "",
        "[output.sanitization]",
        f"keys-to-sanitize = {_value(list(SANITIZED_KEYS))}",
        f"sensitive-markers = {_value(list(SENSITIVE_MARKERS))}",
        "",
        "[generation]",
        'database = "none"',
        "",
        # Per phase rather than `--max-examples` on the command line, which would also set the stateful phase.
        "[phases.fuzzing.generation]",
        f"max-examples = {config.max_examples}",
        "",
        "[phases.stateful.generation]",
        f"max-examples = {config.stateful_scenarios}",
        "",
        "[checks.positive_data_acceptance]",
        "enabled = false  # replaced by valid_data_accepted, which knows the semantic refusals",
        "",
        "[checks.ignored_auth]",
        f"enabled = {_value(config.enforce_client_auth)}",
        "",
        "[auth.openapi.ApiKey]",
        f"api_key = {_value('${' + ENV_API_KEY + '}')}",
        "",
        "[auth.openapi.InternalKey]",
        f"api_key = {_value('${' + ENV_INTERNAL_KEY + '}')}",
        "",
        "[[operations]]",
        'include-operation-id = "getMetrics"',
        "checks.ignored_auth.enabled = true",
        "",
        "[dictionaries.models]",
        f"values = {_value([CANONICAL, *ALIASES])}",
        "",
        "[dictionaries.canaries]",
        f"values = {_value(list(canaries.CANARIES))}",
        "",
        "[parameters]",
        f'"body.model" = {{ dictionary = "models", probability = {MODEL_PROBABILITY} }}',
        *(
            f'"{field}" = {{ dictionary = "canaries", probability = {CANARY_PROBABILITY} }}'
            for field in CANARY_FIELDS
        ),
    ]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    """A TOML value. JSON's string escapes are valid TOML basic-string escapes for the ASCII values used here."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML rendering for {type(value).__name__}")
