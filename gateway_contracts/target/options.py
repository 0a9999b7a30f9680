"""Every target option, defined once.

A target is described by a TOML file (``--config FILE``, or ``./gateway-contracts.toml`` when present), by
``check``/``fuzz`` flags and by the pytest plugin's ``--gateway-*`` options. All three, and the report's record
of what was given, come from :data:`OPTIONS`: an option added here is a file key, a flag and a pytest option at
once, as each key of schemathesis' ``schemathesis.toml`` is also a flag.

The file's keys are the dotted ``key`` of each option (``auth.api_key`` is ``[auth] api_key``). A string value
may name environment variables (``"${GATEWAY_API_KEY}"``): secrets stay out of the file, and a secret's value
never reaches a report (the record says where it came from, not what it was).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["str", "int", "float", "bool", "list", "command", "headers", "route_headers", "queries"]

AUTH_STYLES_HELP = "x-api-key, bearer, or header:NAME"
FEATURES = (
    "scripted-upstream",
    "backend-selection",
    "upstream-echo",
    "kill-switch",
)
"""Optional behaviour a target can offer. ``scripted-upstream``: it fronts ``reference-gateway upstream`` and
forwards its directive header; ``backend-selection``: a header pins the backend; ``upstream-echo``: the scripted
upstream's record of what it received is readable (``--upstream-url``); ``kill-switch``: a second instance whose
cost kill-switch is engaged (``--kill-switch-url``)."""

SURFACES = ("messages", "chat-completions", "models-list", "discovery", "openapi")
"""What a gateway can serve: ``POST /v1/messages``, ``POST /v1/chat/completions``, ``GET /v1/models``, the
discovery documents (agent card, ``llms.txt``) and ``GET /openapi.json``. The metrics endpoint is its own option."""


@dataclass(frozen=True)
class Option:
    key: str
    """The dotted key in the target file, and the name in the report's record."""
    flag: str
    """The ``check``/``fuzz`` flag; the pytest option is ``--gateway-`` + the flag's name (or ``pytest``)."""
    kind: Kind
    help: str
    default: Any = None
    env: str | None = None
    """An environment variable read when neither the flag nor the file gives a value."""
    secret: bool = False
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    pytest: str | None = None

    @property
    def dest(self) -> str:
        return "target_" + self.key.replace(".", "_")

    @property
    def pytest_flag(self) -> str:
        return self.pytest or "--gateway-" + self.flag.removeprefix("--")


OPTIONS: tuple[Option, ...] = (
    Option(
        "target.base_url", "--target", "str", "the gateway's base URL", metavar="URL", pytest="--gateway-url"
    ),
    Option(
        "target.start",
        "--start",
        "command",
        "a command that starts the gateway and prints one ready line saying where it is (contracts/start.py); "
        "the harness stops it at the end. In the file a list of words, as a flag one shell-quoted string",
        metavar="COMMAND",
    ),
    Option(
        "target.start_timeout",
        "--start-timeout",
        "float",
        "seconds the start command has to print its ready line",
        default=120.0,
    ),
    Option("target.name", "--name", "str", "what the report calls the target (default: its URL)"),
    Option("target.timeout", "--timeout", "float", "per-request timeout in seconds", default=30.0),
    Option(
        "target.body_limit",
        "--body-limit",
        "int",
        "the gateway's request size limit in bytes (a body one byte larger must get 413)",
        default=32 * 1024 * 1024,
    ),
    Option(
        "target.profiles",
        "--profile",
        "list",
        "the profiles to check; repeatable (default: the generic ones; add `ainfera` for the seed's gateway)",
        metavar="PROFILE",
    ),
    Option(
        "auth.api_key",
        "--api-key",
        "str",
        "the client key the gateway accepts (default: $GATEWAY_API_KEY)",
        env="GATEWAY_API_KEY",
        secret=True,
        metavar="KEY",
    ),
    Option("auth.style", "--auth", "str", f"how the key is sent: {AUTH_STYLES_HELP}", default="x-api-key"),
    Option(
        "auth.enforced",
        "--auth-enforced",
        "bool",
        "the gateway refuses a missing or wrong client key (enables the client-auth clauses)",
        default=False,
    ),
    Option(
        "headers",
        "--header",
        "headers",
        "a header sent on every call (provider selection, tenancy); repeatable",
        metavar="NAME:VALUE",
    ),
    Option(
        "route_headers",
        "--route-header",
        "route_headers",
        "a header sent on one route only; repeatable",
        metavar="ROUTE=NAME:VALUE",
    ),
    Option("models.default", "--model", "str", "the model named in calls, on every surface", metavar="NAME"),
    Option("models.messages", "--messages-model", "str", "the model for /v1/messages (default: --model)"),
    Option("models.chat", "--chat-model", "str", "the model for /v1/chat/completions (default: --model)"),
    Option(
        "models.aliases",
        "--alias",
        "list",
        "a model alias the gateway resolves silently to its model; repeatable",
        metavar="NAME",
    ),
    Option(
        "models.unknown",
        "--unknown-model",
        "str",
        "a model the gateway does not serve",
        default="gateway-contracts-no-such-model",
    ),
    Option(
        "surfaces",
        "--surface",
        "list",
        f"what the gateway serves; repeatable ({', '.join(SURFACES)}; default: messages, chat-completions)",
        choices=SURFACES,
        metavar="SURFACE",
    ),
    Option("metrics.path", "--metrics-path", "str", "the metrics endpoint's path", default="/metrics"),
    Option(
        "metrics.key",
        "--internal-key",
        "str",
        "the key the metrics endpoint requires: enables the metrics profile (default: $GATEWAY_INTERNAL_KEY)",
        env="GATEWAY_INTERNAL_KEY",
        secret=True,
        metavar="KEY",
    ),
    Option(
        "metrics.auth",
        "--metrics-auth",
        "str",
        "how the metrics key is sent: bearer, header:NAME, or none (a public endpoint: enables the profile)",
        default="bearer",
    ),
    Option(
        "metrics.route_templates",
        "--route-template",
        "list",
        "a route template the gateway reports as a `path` label value; repeatable",
        metavar="TEMPLATE",
    ),
    Option(
        "request_id.header",
        "--request-id-header",
        "str",
        "the response header carrying the call's request id ('' when there is none)",
        default="request-id",
    ),
    Option(
        "request_id.log_field",
        "--request-id-log-field",
        "str",
        "the log field carrying the call's request id",
        default="request_id",
    ),
    Option(
        "trace.propagates",
        "--trace",
        "bool",
        "the gateway carries a W3C traceparent through (--no-trace: skip the trace clauses)",
        default=True,
    ),
    Option("logs.file", "--log-file", "str", "the gateway's JSON-lines log: enables the logs profile"),
    Option(
        "capture.db_url",
        "--db-url",
        "str",
        "the gateway's database: enables the capture clauses",
        env="GATEWAY_DB_URL",
        secret=True,
        metavar="URL",
    ),
    Option(
        "capture.queries",
        "--capture-query",
        "queries",
        "SQL for one capture invariant's rows of a call (outcomes, audit, ledger), given :request_id; repeatable",
        metavar="NAME=SQL",
    ),
    Option(
        "features.offered",
        "--feature",
        "list",
        "an optional feature the gateway offers; repeatable",
        choices=FEATURES,
    ),
    Option(
        "features.upstream_url",
        "--upstream-url",
        "str",
        "the scripted upstream the gateway fronts (its record of received requests: upstream-echo)",
    ),
    Option(
        "features.kill_switch_url",
        "--kill-switch-url",
        "str",
        "an instance of the gateway whose kill-switch is engaged",
    ),
    Option(
        "features.kill_switch_db_url", "--kill-switch-db-url", "str", "that instance's database", secret=True
    ),
)

BY_KEY = {o.key: o for o in OPTIONS}


def _kwargs(o: Option) -> dict[str, Any]:
    # Defaults stay None: a flag overrides the file only when given (``config.resolve`` applies defaults last).
    kwargs: dict[str, Any] = {"dest": o.dest, "help": f"{o.help} [{o.key}]", "default": None}
    if o.metavar:
        kwargs["metavar"] = o.metavar
    if o.kind == "bool":
        kwargs["action"] = argparse.BooleanOptionalAction
    elif o.kind in ("list", "headers", "route_headers", "queries"):
        kwargs["action"] = "append"
        if o.choices:
            kwargs["choices"] = o.choices
    elif o.kind == "int":
        kwargs["type"] = int
    elif o.kind == "float":
        kwargs["type"] = float
    return kwargs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options as ``check``/``fuzz`` flags."""
    group = parser.add_argument_group("target (every flag is also a key of the --config file)")
    group.add_argument(
        "--config",
        metavar="FILE",
        help="the target file (TOML; default: ./gateway-contracts.toml when present)",
    )
    for o in OPTIONS:
        group.add_argument(o.flag, **_kwargs(o))


def add_pytest_options(group: Any) -> None:
    """The same options for the pytest plugin, as ``--gateway-*``."""
    group.addoption("--gateway-config", dest="target_config", help="the target file (TOML)")
    for o in OPTIONS:
        kwargs = _kwargs(o)
        kwargs.pop("metavar", None)
        group.addoption(o.pytest_flag, **kwargs)


def cli_values(get: Any) -> dict[str, Any]:
    """The options given on the command line (``get(dest)`` reads an argparse namespace or pytest config)."""
    out: dict[str, Any] = {}
    for o in OPTIONS:
        value = get(o.dest)
        if value is not None:
            out[o.key] = value
    return out
