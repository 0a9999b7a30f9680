"""The scripted upstream: a deterministic, offline LLM backend driven by the ``X-Upstream-Script`` header.

Used by the reference gateway by default and by every test. ``ScriptedAdapter`` runs it in-process;
``server`` serves the same engine over HTTP in Anthropic and OpenAI-compatible dialects.

The parts, by job: ``directives`` (the header), ``engine`` (request + directives → Script), ``tool_input``
(a tool call's input from its schema), ``renderings`` (a Script in each dialect), ``pacing`` (delays, errors,
drops), ``corrupt`` (hostile answers), ``provider_rules`` (what the real providers refuse), and for the HTTP
server ``request_bodies`` and ``error_bodies``. The directive
reference is docs/scripted-upstream.md.
"""

from __future__ import annotations

from reference_server.upstream.scripted.adapter import ScriptedAdapter
from reference_server.upstream.scripted.directives import (
    DIRECTIVE_HEADER,
    DirectiveError,
    Directives,
    directives_from_headers,
    parse_directives,
)
from reference_server.upstream.scripted.engine import Script, build_script, scripted_words
from reference_server.upstream.scripted.renderings import (
    anthropic_events,
    anthropic_message,
    upstream_message,
)
from reference_server.upstream.scripted.tool_input import schema_instance

__all__ = [
    "DIRECTIVE_HEADER",
    "DirectiveError",
    "Directives",
    "Script",
    "ScriptedAdapter",
    "anthropic_events",
    "anthropic_message",
    "build_script",
    "directives_from_headers",
    "parse_directives",
    "schema_instance",
    "scripted_words",
    "upstream_message",
]
