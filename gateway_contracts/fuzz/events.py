"""Reading schemathesis' NDJSON event stream: what was sent, what came back, which checks failed.

The NDJSON report is schemathesis' documented machine-readable output (one engine event per line). A
``ScenarioFinished`` event carries its scenario's recorder: the cases, the request and response of each, and the
result of every check. The file can be large on a long run, so it is read line by line and only what the summary,
the findings and the determinism test need is kept.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    uri: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True)
class Interaction:
    phase: str
    label: str
    """The operation, ``METHOD /path`` (the stateful phase records each step under its own operation)."""
    case_id: str
    request: Request
    status: int | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class CheckFailure:
    phase: str
    label: str
    case_id: str
    check: str
    code: str
    title: str
    message: str
    interaction: Interaction | None
    kind: str = ""
    """schemathesis' failure type (``JsonSchemaError``, ``MissingHeaders``, …; ``ContractFailure`` for ours)."""


@dataclass(frozen=True)
class RunError:
    phase: str
    label: str
    message: str


@dataclass
class RunEvents:
    interactions: list[Interaction] = field(default_factory=list)
    failures: list[CheckFailure] = field(default_factory=list)
    errors: list[RunError] = field(default_factory=list)
    finished: bool = False
    running_time: float | None = None
    seed: int | None = None


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"])
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


def _first(value: Any) -> str:
    return str(value[0]) if isinstance(value, list) and value else str(value or "")


def _interaction(phase: str, label: str, case_id: str, raw: dict[str, Any]) -> Interaction:
    req = raw.get("request") or {}
    resp = raw.get("response") or {}
    headers = {name: _first(value) for name, value in (req.get("headers") or {}).items()}
    resp_headers = {name.lower(): _first(value) for name, value in (resp.get("headers") or {}).items()}
    return Interaction(
        phase=phase,
        label=label,
        case_id=case_id,
        request=Request(
            str(req.get("method", "")), str(req.get("uri", "")), headers, _bytes(req.get("body"))
        ),
        status=resp.get("status_code"),
        content_type=resp_headers.get("content-type", "").split(";")[0].strip().lower(),
        content=_bytes(resp.get("content")) or b"",
    )


def _scenario(event: dict[str, Any], out: RunEvents) -> None:
    phase = str(event.get("phase", ""))
    recorder = event.get("recorder") or {}
    cases = recorder.get("cases") or {}
    by_case: dict[str, Interaction] = {}
    for case_id, raw in (recorder.get("interactions") or {}).items():
        case = (cases.get(case_id) or {}).get("value") or {}
        label = f"{case.get('method', '')} {case.get('path', '')}".strip() or str(recorder.get("label", ""))
        by_case[case_id] = _interaction(phase, label, case_id, raw)
        out.interactions.append(by_case[case_id])
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks:
            failure = (check.get("failure_info") or {}).get("failure")
            if check.get("status") != "failure" or not failure:
                continue
            interaction = by_case.get(case_id)
            out.failures.append(
                CheckFailure(
                    phase=phase,
                    label=str(failure.get("operation") or (interaction.label if interaction else "")),
                    case_id=case_id,
                    check=str(check.get("name", "")),
                    code=str(failure.get("code", "")),
                    title=str(failure.get("title", "")),
                    message=str(failure.get("message", "")),
                    interaction=interaction,
                    kind=str(failure.get("type", "")),
                )
            )


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_events(path: Path) -> RunEvents:
    out = RunEvents()
    for record in _lines(path):
        kind, event = next(iter(record.items()))
        if kind == "Initialize":
            out.seed = event.get("seed")
        elif kind == "ScenarioFinished":
            _scenario(event, out)
        elif kind == "NonFatalError":
            value = event.get("value") or event.get("error") or {}
            message = value.get("message") if isinstance(value, dict) else str(value)
            out.errors.append(
                RunError(str(event.get("phase", "")), str(event.get("label", "")), str(message))
            )
        elif kind == "EngineFinished":
            out.finished = True
            out.running_time = event.get("running_time")
    return out
