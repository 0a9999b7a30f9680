"""The ``schemathesis.toml`` of a fuzz run: written to the report directory, so the run can be read and repeated.

Everything here is documented schemathesis configuration. The notable choices:

* ``continue-on-failure``: an operation is fuzzed to its last case even once a check has failed on it. Without
  it, the first failure ends the operation's search (the case is shrunk instead), so a fault on every answer
  (a bad header) kept the fuzzer from ever reaching another (a broken error body): one finding hid the others.
  Every failing case is recorded; each distinct finding is reproduced by the first request that showed it;
* the contract checks come in through ``hooks``; schemathesis' own ``positive_data_acceptance`` is replaced by
  ``valid_data_accepted``, which knows the contract's semantic refusals (``refusals.py``);
* ``ignored_auth`` runs on the metrics endpoint (its key is mandatory there). The client key rides on every call
  as a fixed header, not as a security scheme: schemathesis' negative cases would drop or mangle a scheme's header,
  and a gateway that enforces keys (rightly) refuses those before it reads the body the case is about. Missing
  and wrong client keys are the conformance suite's (AUTH-001, AUTH-002);
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

from gateway_contracts.fuzz import canaries, streams
from gateway_contracts.fuzz.settings import ENV_INTERNAL_KEY, HOOKS_MODULE

SANITIZED_KEYS = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x_api_key",
    "api-key",
    "api_key",
    "apikey",
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
    """True when the target enforces client keys: the gateway is then expected to refuse any other."""
    models: tuple[str, ...] = ()
    """The target's models and aliases: the fuzzer names one of them in most calls."""
    headers: tuple[tuple[str, str], ...] = ()
    """Headers the target needs on every call (the target file's ``[headers]``)."""
    route_headers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    """Headers the target needs on one route (``[route_headers]``)."""
    auth_headers: tuple[tuple[str, str], ...] = ()
    """The client key's header, its value a ``${...}`` placeholder for the key in the child's environment."""
    secret_headers: tuple[str, ...] = ()
    """The target's own credential headers (its client key and metrics key headers): masked in reports."""

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
        "continue-on-failure = true",
        f"headers = {_inline({**header_placeholders(config.headers), **dict(config.auth_headers)})}",
        "",
        "[cache]",
        "enabled = false",
        "",
        "[output.sanitization]",
        f"keys-to-sanitize = {_value(list(dict.fromkeys([*SANITIZED_KEYS, *config.secret_headers])))}",
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
        "enabled = false  # on the metrics endpoint only, below",
        "",
        "[auth.openapi.InternalKey]",
        f"api_key = {_value('${' + ENV_INTERNAL_KEY + '}')}",
        "",
        "[[operations]]",
        'include-operation-id = "getMetrics"',
        "checks.ignored_auth.enabled = true",
        "",
        *_route_header_sections(config),
        "[dictionaries.models]",
        f"values = {_value(list(config.models))}",
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


def _route_header_sections(config: RunConfig) -> list[str]:
    out: list[str] = []
    for i, (route, headers) in enumerate(config.route_headers):
        placeholders = header_placeholders(headers, prefix=f"R{i}_")
        out += ["[[operations]]", f"include-path = {_value(route)}", f"headers = {_inline(placeholders)}", ""]
    return out


HEADER_VARIABLE = "GATEWAY_CONTRACTS_FUZZ_HEADER_"


def header_variable(name: str, prefix: str = "") -> str:
    return HEADER_VARIABLE + prefix + "".join(c if c.isalnum() else "_" for c in name.upper())


def header_placeholders(headers: tuple[tuple[str, str], ...], prefix: str = "") -> dict[str, str]:
    """Header values as ``${VAR}``: a header may carry a credential (a provider key), and the file is kept in
    the report directory; the values travel in the child's environment (:func:`header_environment`)."""
    return {name: "${" + header_variable(name, prefix) + "}" for name, _ in headers}


def header_environment(config: RunConfig) -> dict[str, str]:
    env = {header_variable(name): value for name, value in config.headers}
    for i, (_route, headers) in enumerate(config.route_headers):
        env.update({header_variable(name, f"R{i}_"): value for name, value in headers})
    return env


def _inline(table: dict[str, str]) -> str:
    """A TOML inline table (header names are tokens: quoted keys are always valid)."""
    return "{ " + ", ".join(f"{_value(k)} = {_value(v)}" for k, v in table.items()) + " }"


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
