"""Reading a target: the TOML file, the flags, the environment, then the defaults, in that order of precedence.

Every mistake is a ``ConfigError`` with one line naming the key or flag and what to do; ``check``, ``fuzz`` and
the pytest plugin turn it into a usage error (exit 2). An empty or unparsable base URL is such a mistake, never
"use the embedded gateway": an unset ``$URL`` in a CI script must not check something else and go green.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts import CONTRACTS_DIR
from gateway_contracts.errors import printable
from gateway_contracts.target.model import Target
from gateway_contracts.target.options import BY_KEY, OPTIONS, Option

DEFAULT_FILE = Path("gateway-contracts.toml")
REFERENCE_FILE = CONTRACTS_DIR / "targets" / "reference.toml"
"""The reference gateway's own target file: what ``check`` runs when it is given no target at all."""
MAX_FILE_BYTES = 1024 * 1024
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_SECTIONS = {o.key.split(".", 1)[0] for o in OPTIONS if "." in o.key}


class ConfigError(Exception):
    pass


# -- the file ----------------------------------------------------------------------------------------------
def read_file(path: Path) -> dict[str, Any]:
    """The file's options as ``{dotted key: value}``, environment variables expanded."""
    try:
        if not path.is_file():
            raise ConfigError(f"the target file {path} does not exist or is not a regular file")
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise ConfigError(f"cannot read the target file {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"the target file {path} is over {MAX_FILE_BYTES} bytes; is it the right file?")
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    out: dict[str, Any] = {}
    for section, body in doc.items():
        if section in BY_KEY:  # a top-level table option (headers, route_headers)
            out[section] = body
            continue
        if section not in _SECTIONS or not isinstance(body, dict):
            raise ConfigError(f"{path}: unknown key {section!r}; known: {', '.join(sorted(_known_tops()))}")
        for name, value in body.items():
            key = f"{section}.{name}"
            if key not in BY_KEY:
                known = sorted(k for k in BY_KEY if k.startswith(section + "."))
                raise ConfigError(f"{path}: unknown key {key!r}; known in [{section}]: {', '.join(known)}")
            out[key] = value
    try:
        return {key: _expand(value) for key, value in out.items()}
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _known_tops() -> set[str]:
    return _SECTIONS | {o.key for o in OPTIONS if "." not in o.key}


def _expand(value: Any) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(f"${{{name}}} is not set in the environment")
            return os.environ[name]

        return _VARIABLE.sub(sub, value)
    if isinstance(value, list):
        return [_expand(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    return value


def _file_sources(path: Path) -> dict[str, str]:
    """Where each secret of the file comes from, for the report: the variable it names, or "the file"."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, str] = {}
    for o in OPTIONS:
        if not o.secret or "." not in o.key:
            continue
        section, name = o.key.split(".", 1)
        value = doc.get(section, {}).get(name)
        if isinstance(value, str):
            names = _VARIABLE.findall(value)
            out[o.key] = "$" + names[0] if names else "the target file"
    return out


# -- values ------------------------------------------------------------------------------------------------
def _coerce(o: Option, value: Any, where: str) -> Any:
    """One option's value in its kind, from the file (TOML types) or a flag (strings, lists of strings)."""
    label = o.flag if where == "flag" else o.key
    if o.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, got {type(value).__name__}")
        return value
    if o.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{label} must be a number")
        if value <= 0:
            raise ConfigError(f"{label} must be positive")
        return int(value) if o.kind == "int" else float(value)
    if o.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{label} must be a string")
        if not value.strip() and o.key not in MAY_BE_EMPTY:
            # An unset variable in a CI script ("--db-url $DB") must not quietly switch a check off.
            raise ConfigError(f"{label} is empty: give a value, or leave the option out")
        return value
    if o.kind == "list":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"{label} must be a list of strings")
        if o.choices:
            bad = [v for v in items if v not in o.choices]
            if bad:
                raise ConfigError(
                    f"{label}: unknown value(s) {', '.join(bad)}; known: {', '.join(o.choices)}"
                )
        return list(dict.fromkeys(items))
    if o.kind == "command":
        return _command(value, label)
    if o.kind == "headers":
        return _headers(value if where == "file" else _pairs(value, ":", label), label)
    if o.kind == "queries":
        mapping = value if where == "file" else _pairs(value, "=", label)
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ConfigError(f"{label} must map invariant names to SQL strings")
        unknown = sorted(set(mapping) - CAPTURE_QUERIES)
        if unknown:
            raise ConfigError(
                f"{label}: unknown invariant(s) {', '.join(unknown)}; known: {', '.join(sorted(CAPTURE_QUERIES))}"
            )
        return dict(mapping)
    # route_headers
    if where == "file":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ConfigError(f"{label} must be a table of route = {{header = value}}")
        return {_route(r, label): _headers(h, label) for r, h in value.items()}
    out: dict[str, dict[str, str]] = {}
    for item in value:
        route, sep, rest = item.partition("=")
        if not sep:
            raise ConfigError(f"{label} takes ROUTE=NAME:VALUE, got {item!r}")
        out.setdefault(_route(route, label), {}).update(_headers(_pairs([rest], ":", label), label))
    return out


CAPTURE_QUERIES = frozenset({"outcomes", "audit", "ledger"})
MAY_BE_EMPTY = frozenset({"request_id.header", "capture.db_url", "features.kill_switch_db_url"})
"""Options where an empty value is not a usage error: no request id header means none; an empty database URL
is kept, and the preflight refuses it as a database that cannot be read (exit 4, as ``audit-verify`` does)."""


def _pairs(items: list[str], sep: str, label: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, found, value = item.partition(sep)
        if not found or not name.strip():
            raise ConfigError(f"{label} takes NAME{sep}VALUE, got {item.split(sep, 1)[0][:40]!r}…")
        out[name.strip()] = value.strip()
    return out


def _headers(value: Any, label: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{label} must be a table of header = value")
    out: dict[str, str] = {}
    for name, v in value.items():
        if not isinstance(v, str) or not _HEADER_NAME.match(name):
            raise ConfigError(f"{label}: {name!r} must be a header name with a string value")
        if any(c in v for c in "\r\n\0"):
            raise ConfigError(f"{label}: the value of {name} holds a line break or NUL")
        out[name.lower()] = v
    return out


def _route(route: str, label: str) -> str:
    if not route.startswith("/"):
        raise ConfigError(f"{label}: a route is a path starting with '/', got {route[:40]!r}")
    return route


def _command(value: Any, label: str) -> tuple[str, ...]:
    """A command as its words: a list of strings (the file), or one shell-quoted string (a flag, or the file)."""
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise ConfigError(f"{label}: not a command line ({exc})") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        words = list(value)
    else:
        raise ConfigError(f"{label} must be a command: a list of strings, or one string")
    if not words or not words[0].strip():
        raise ConfigError(f"{label} is empty: give the command that starts the gateway, or leave it out")
    return tuple(words)


def check_url(url: str, label: str) -> str:
    """An http(s) base URL with a host, without a trailing slash, or a one-line ``ConfigError``."""
    if not url.strip():
        raise ConfigError(f"{label} is empty: give the gateway's base URL, e.g. http://127.0.0.1:8080")
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port  # .port raises on a bad port
        httpx.URL(url)  # what the client will be given must parse there too (control bytes, bad hosts)
    except (ValueError, httpx.InvalidURL) as exc:
        raise ConfigError(f"{label} is not a valid URL ({printable(str(exc))[:80]}): {url[:80]!r}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{label} must be an http(s) URL with a host, got {url[:80]!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{label} is a base URL: no query or fragment, got {url[:80]!r}")
    return url.rstrip("/")


def _style(value: str, label: str, allow_none: bool) -> str:
    if value in ("x-api-key", "bearer") or (allow_none and value == "none"):
        return value
    if value.startswith("header:") and _HEADER_NAME.match(value.removeprefix("header:")):
        return "header:" + value.removeprefix("header:").lower()
    known = "x-api-key, bearer, header:NAME" + (", none" if allow_none else "")
    raise ConfigError(f"{label} must be one of {known}; got {value[:40]!r}")


# -- resolution --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    """What a target is resolved from, kept so that a started target can be resolved again with its ready line."""

    path: Path | None
    from_file: dict[str, Any]
    sources: dict[str, str]
    flags: dict[str, Any]


READY_SOURCE = "(set by the start command)"


def read_inputs(
    config: str | Path | None, flags: dict[str, Any], *, default_file: Path | None = DEFAULT_FILE
) -> Inputs:
    """The file (``config``; else ``./gateway-contracts.toml``; else, when no flag names a base URL or a start
    command, the reference gateway's own file) and the flags."""
    path: Path | None
    if config is not None:
        if not str(config).strip():
            raise ConfigError("--config is empty: give the target file's path")
        path = Path(config)
    elif default_file is not None and default_file.is_file():
        path = default_file
    elif "target.base_url" in flags or "target.start" in flags:
        path = None
    else:
        path = REFERENCE_FILE
    from_file = read_file(path) if path is not None else {}
    sources = _file_sources(path) if path is not None else {}
    return Inputs(path, from_file, sources, dict(flags))


def resolve(
    config: str | Path | None, flags: dict[str, Any], *, default_file: Path | None = DEFAULT_FILE
) -> Target:
    """The target from a file and the flags, which win over the file. A target with a start command comes back
    not yet started (no base URL needed): ``gateway_contracts.target.start`` starts it."""
    return build(read_inputs(config, flags, default_file=default_file))


def explicit_values(inputs: Inputs) -> tuple[dict[str, Any], dict[str, Any]]:
    """The options the flags and the file set, in their kinds, and the record of each for the report."""
    values: dict[str, Any] = {}
    given: dict[str, Any] = {}
    flags, from_file = inputs.flags, inputs.from_file
    for o in OPTIONS:
        if o.key in flags:
            value = _coerce(o, flags[o.key], "flag")
            if o.kind in ("headers", "queries") and o.key in from_file:
                value = {**_coerce(o, from_file[o.key], "file"), **value}
            elif o.kind == "route_headers" and o.key in from_file:
                merged = _coerce(o, from_file[o.key], "file")
                for route, headers in value.items():
                    merged[route] = {**merged.get(route, {}), **headers}
                value = merged
            values[o.key] = value
            given[o.key] = "(secret, from a flag)" if o.secret else value
        elif o.key in from_file:
            values[o.key] = _coerce(o, from_file[o.key], "file")
            given[o.key] = (
                f"(secret, from {inputs.sources.get(o.key, 'the target file')})"
                if o.secret
                else values[o.key]
            )
    return values, given


def build(inputs: Inputs, ready: dict[str, Any] | None = None) -> Target:
    """The target: the flags, then the file, then (once started) the start command's ready line, then the
    environment, then the defaults."""
    values, given = explicit_values(inputs)
    started = ready is not None
    ready = ready or {}
    unknown = sorted(k for k in ready if k not in BY_KEY or k in ("target.start", "target.start_timeout"))
    if unknown:
        raise ConfigError(
            f"the start command's ready line names unknown target option(s) {', '.join(unknown)}"
        )
    for o in OPTIONS:
        if o.key in values:
            continue
        if o.key in ready:
            try:
                values[o.key] = _coerce(o, ready[o.key], "file")
            except ConfigError as exc:
                raise ConfigError(f"the start command's ready line: {exc}") from None
            given[o.key] = READY_SOURCE
        elif o.env and os.environ.get(o.env):
            values[o.key] = os.environ[o.env]
            given[o.key] = f"(secret, from ${o.env})" if o.secret else values[o.key]
        else:
            values[o.key] = o.default
    if inputs.path is not None:
        given["config"] = str(inputs.path)
    return _target(values, given, inputs, started)


def _target(v: dict[str, Any], given: dict[str, Any], inputs: Inputs, started: bool) -> Target:
    start: tuple[str, ...] = v["target.start"] or ()
    base_url = v["target.base_url"]
    if started:
        start = ()  # done: what it started is described by the ready line
        if base_url is None:
            raise ConfigError(
                "the start command's ready line gives no target.base_url, and no --target is set"
            )
    elif not start and base_url is None:
        raise ConfigError(
            "no target: give the gateway's base URL (--target URL, or target.base_url) or a start command"
        )
    if base_url is not None:
        base_url = check_url(base_url, "--target")
    default_model = v["models.default"] or ""
    messages_model = v["models.messages"] or default_model
    chat_model = v["models.chat"] or default_model
    surfaces = frozenset(v["surfaces"] if v["surfaces"] is not None else ("messages", "chat-completions"))
    for surface, model, flag in (
        ("messages", messages_model, "--messages-model"),
        ("chat-completions", chat_model, "--chat-model"),
    ):
        if surface in surfaces and not model:
            raise ConfigError(
                f"no model for {surface}: give --model NAME (or {flag}), the model your gateway serves"
            )
    for key, label in (
        ("features.upstream_url", "--upstream-url"),
        ("features.kill_switch_url", "--kill-switch-url"),
    ):
        if v[key] is not None:
            v[key] = check_url(v[key], label)
    metrics_path = v["metrics.path"]
    if not metrics_path.startswith("/"):
        raise ConfigError(f"--metrics-path must start with '/', got {metrics_path[:40]!r}")
    log_file = v["logs.file"]
    return Target(
        base_url=base_url or "",
        name=v["target.name"] or base_url or "the started gateway",
        embedded=bool(started),
        start=start,
        start_timeout=v["target.start_timeout"],
        inputs=inputs,
        timeout=v["target.timeout"],
        body_limit=v["target.body_limit"],
        profiles=tuple(v["target.profiles"] or ()),
        api_key=v["auth.api_key"] or "",
        auth=_style(v["auth.style"], "--auth", allow_none=False),
        auth_enforced=v["auth.enforced"],
        headers=v["headers"] or {},
        route_headers=v["route_headers"] or {},
        messages_model=messages_model,
        chat_model=chat_model,
        aliases=tuple(v["models.aliases"] or ()),
        unknown_model=v["models.unknown"],
        surfaces=surfaces,
        metrics_path=metrics_path,
        internal_key=v["metrics.key"] or None,
        metrics_auth=_style(v["metrics.auth"], "--metrics-auth", allow_none=True),
        route_templates=tuple(v["metrics.route_templates"] or ()),
        request_id_header=v["request_id.header"].lower(),
        request_id_log_field=v["request_id.log_field"],
        trace=v["trace.propagates"],
        log_file=Path(log_file) if log_file else None,
        db_url=v["capture.db_url"],
        capture_queries=v["capture.queries"] or {},
        features=frozenset(v["features.offered"] or ()),
        upstream_url=v["features.upstream_url"],
        kill_switch_url=v["features.kill_switch_url"],
        kill_switch_db_url=v["features.kill_switch_db_url"],
        given=given,
    )
