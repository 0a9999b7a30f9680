"""The hostile-input corpus, generated: framing, bodies, fields, tool schemas, directives and ids, and hostile upstream
answers. Every case is a raw HTTP/1.1 request (bytes), so framing cases and JSON cases go through one runner.

The fields part walks both request schemas of the contract (``MessagesRequest`` and ``ChatCompletionRequest`` in
contracts/openapi.yaml) and puts wrong types and boundary values into every property it finds, nested ones
included. Secrets are planted in header values, query strings and body values; ``SECRET_MARK`` in an answer is an
echo. A few values the contract echoes by design are never given a secret (the agent id header, tool names,
stop sequences, the model name of a successful call).
"""

from __future__ import annotations

from tests.hostile.corpus.bodies import body_cases
from tests.hostile.corpus.case import KEY, Case
from tests.hostile.corpus.directives import directive_and_id_cases
from tests.hostile.corpus.fields import field_cases
from tests.hostile.corpus.framing import framing_cases, slow_cases
from tests.hostile.corpus.tool_schemas import tool_schema_cases
from tests.hostile.corpus.upstream import upstream_cases

__all__ = ["KEY", "Case", "corpus"]


def corpus() -> list[Case]:
    cases = [
        *framing_cases(),
        *slow_cases(),
        *body_cases(),
        *field_cases(),
        *tool_schema_cases(),
        *directive_and_id_cases(),
        *upstream_cases(),
    ]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases
