"""The contract's own checks, plugged into ``schemathesis run`` (its ``hooks`` setting names this module).

Each check is a thin adapter from schemathesis' ``(ctx, response, case)`` to a plain function of this package
(``streams``, ``envelope``, ``canaries``, ``refusals``, ``capture``), which the unit tests exercise without
schemathesis. Only documented schemathesis API is used: ``schemathesis.check``, ``Case``, ``Response``.

A failure's title names the check and *what* broke (clause IDs, the refusal, the kind of echo) but never
per-request details: schemathesis reports one failure per operation and title, and the fuzz baseline keys on
the title, so it must be stable from run to run. The details go in the message.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import schemathesis
from schemathesis.core.failures import CustomFailure, Failure

from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.fuzz import canaries, capture, envelope, refusals, streams
from gateway_contracts.fuzz.settings import HookSettings

CHECK_NAMES = (
    "sse_grammar",
    "anthropic_error_envelope",
    "no_secret_echo",
    "capture_invariant",
    "valid_data_accepted",
)


class ContractFailure(Failure):
    """A contract check failed. Reported as a custom check failure (schemathesis' ST901 code)."""

    code = CustomFailure.code
    kind_title = CustomFailure.kind_title

    @property
    def _unique_key(self) -> str:
        # The title carries what broke; two different breakages of one operation are two findings.
        return self.title


def _fail(case: Any, check: str, title: str, message: str) -> ContractFailure:
    return ContractFailure(operation=_label(case), title=f"{check}: {title}", message=message)


def _label(case: Any) -> str:
    return f"{case.method.upper()} {case.path}"


@functools.cache
def _operation_ids() -> dict[str, str]:
    from gateway_contracts.fuzz.document import operation_ids, written_document

    return operation_ids(written_document())


def _operation_id(case: Any) -> str:
    return _operation_ids().get(_label(case), "")


@functools.cache
def _settings() -> HookSettings:
    return HookSettings.from_env()


def _content_type(response: Any) -> str:
    values = response.headers.get("content-type") or [""]
    return str(values[0]).split(";")[0].strip().lower()


def _request_body(response: Any) -> bytes | None:
    body = response.request.body
    if body is None or isinstance(body, bytes):
        return body
    return str(body).encode("utf-8", "surrogatepass")


def _json_body(response: Any) -> Any:
    raw = _request_body(response)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@schemathesis.check
def sse_grammar(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every event stream follows the full grammar of its dialect, read to its end (BRIEF §2)."""
    op = _operation_id(case)
    if _content_type(response) != "text/event-stream":
        body = _json_body(response)
        wanted = isinstance(body, dict) and body.get("stream") is True
        if op in streams.DIALECTS and wanted and response.status_code == 200:
            raise _fail(
                case, "sse_grammar", "stream requested, none sent", "stream: true got a 200 that is no stream"
            )
        return None
    verdict = streams.stream_verdict(op, response.content or b"", bool(response.stream_cut_short))
    if verdict is not None:
        raise _fail(case, "sse_grammar", verdict.title, verdict.message)
    return None


@schemathesis.check
def anthropic_error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx and 5xx is ``{"type": "error", "error": {...}}`` with the type its status calls for; on Chat
    Completions, a gateway that does not make the seed's promises answers OpenAI's envelope instead."""
    if _operation_id(case) == "createChatCompletion" and not _settings().target.ainfera:
        problems = envelope.openai_envelope_problems(response.status_code, response.content or b"")
    else:
        problems = envelope.envelope_problems(response.status_code, response.headers, response.content or b"")
    if problems:
        raise _fail(
            case, "anthropic_error_envelope", f"{response.status_code} not enveloped", "\n".join(problems)
        )
    return None


@schemathesis.check
def no_secret_echo(ctx: Any, response: Any, case: Any) -> bool | None:
    """No response carries back a credential or a planted secret the request sent (headers or body)."""
    sent = canaries.request_secrets(dict(response.request.headers), _request_body(response))
    echoed = canaries.echoes(sent, response.headers, response.content or b"")
    if echoed:
        raise _fail(case, "no_secret_echo", "response echoes a request secret", "\n".join(echoed))
    return None


@schemathesis.check
def capture_invariant(ctx: Any, response: Any, case: Any) -> bool | None:
    """With a database: the call's request-id has one outcome row, its audit events and one ledger row."""
    db_url = _settings().db_url
    if not db_url or _operation_id(case) not in refusals.CALL_OPERATIONS:
        return None
    request_id = capture.request_id_of(response.headers, _settings().target.request_id_header)
    if request_id is None:
        if 200 <= response.status_code < 300:
            raise _fail(
                case, "capture_invariant", "no request-id", "a successful call has no request-id header"
            )
        return None
    problems = capture.capture_problems(_db(db_url), request_id, response.status_code)
    if problems:
        title = "success not captured" if response.status_code < 300 else "partial capture"
        raise _fail(case, "capture_invariant", title, "\n".join(problems))
    return None


@functools.cache
def _db(url: str) -> CaptureDB:
    return CaptureDB(url, dict(_settings().target.capture_queries))


@schemathesis.check
def valid_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request gets no 4xx unless the refusal is semantic (``refusals.REFUSALS``)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not 400 <= response.status_code < 500:
        return None
    op = _operation_id(case)
    if not op:
        return None  # a method the document does not declare (schemathesis probes those on purpose)
    answer = refusals.answer_of(response.status_code, response.content or b"")
    if op == "getMetrics" and answer.status == 401 and not _settings().internal_key_given:
        return None  # without --internal-key no request can carry the right key
    if refusals.excusing_refusal(op, _json_body(response), answer) is not None:
        return None
    message = (response.content or b"")[:300].decode("utf-8", "replace")
    title = f"{response.status_code} {answer.error_type or 'error'} for schema-valid data"
    raise _fail(case, "valid_data_accepted", title, message)
