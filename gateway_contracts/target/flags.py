"""A resolved target handed on as flags (``check`` and ``fuzz`` run by a script, a reproduction): the inverse of
:func:`gateway_contracts.target.config.resolve`, option by option."""

from __future__ import annotations

from gateway_contracts.target.model import Target
from gateway_contracts.target.options import OPTIONS

# Each option's Target attribute: how a resolved target is handed on as flags (``check`` run by ``selftest``).
ATTRIBUTE = {
    "target.base_url": "base_url",
    "target.name": "name",
    "target.timeout": "timeout",
    "target.body_limit": "body_limit",
    "target.profiles": "profiles",
    "auth.api_key": "api_key",
    "auth.style": "auth",
    "auth.enforced": "auth_enforced",
    "headers": "headers",
    "route_headers": "route_headers",
    "models.messages": "messages_model",
    "models.chat": "chat_model",
    "models.aliases": "aliases",
    "models.unknown": "unknown_model",
    "surfaces": "surfaces",
    "metrics.path": "metrics_path",
    "metrics.key": "internal_key",
    "metrics.auth": "metrics_auth",
    "metrics.route_templates": "route_templates",
    "request_id.header": "request_id_header",
    "request_id.log_field": "request_id_log_field",
    "trace.propagates": "trace",
    "logs.file": "log_file",
    "capture.db_url": "db_url",
    "capture.queries": "capture_queries",
    "features.offered": "features",
    "features.upstream_url": "upstream_url",
    "features.kill_switch_url": "kill_switch_url",
    "features.kill_switch_db_url": "kill_switch_db_url",
}


ALWAYS_SAID = frozenset({"target.base_url", "models.messages", "models.chat"})


def to_flags(target: Target, omit: tuple[str, ...] = ()) -> list[str]:
    """The flags that describe ``target`` to ``check`` or ``fuzz`` (no file needed): the inverse of
    :func:`resolve`, option by option; ``omit`` leaves options out by key."""
    out: list[str] = []
    plain = Target(base_url="")  # what a target is when nothing is said: those values need no flag
    for o in OPTIONS:
        attr = ATTRIBUTE.get(o.key)
        if attr is None or o.key in omit:
            continue
        value = getattr(target, attr)
        if value == getattr(plain, attr) and o.key not in ALWAYS_SAID:
            continue
        if value is None or value == "" or value == () or value == {} or value == frozenset():
            continue
        if o.kind == "bool":
            out.append(o.flag if value else "--no-" + o.flag.removeprefix("--"))
        elif o.kind == "list":
            for item in sorted(value) if isinstance(value, frozenset) else value:
                out += [o.flag, str(item)]
        elif o.kind == "headers":
            for name, v in value.items():
                out += [o.flag, f"{name}:{v}"]
        elif o.kind == "route_headers":
            for route, headers in value.items():
                out += [x for name, v in headers.items() for x in (o.flag, f"{route}={name}:{v}")]
        elif o.kind == "queries":
            for name, sql in value.items():
                out += [o.flag, f"{name}={sql}"]
        else:
            out += [o.flag, str(value)]
    return out
