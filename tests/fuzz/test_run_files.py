"""What a fuzz run writes and reads: the merged document, the schemathesis configuration, findings, baseline."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from gateway_contracts.fuzz import baseline, config, document, findings
from gateway_contracts.fuzz.events import CheckFailure, Interaction, Request, RunEvents, read_events


def test_merged_document_adds_metrics_behind_the_internal_key() -> None:
    doc = document.merged_document()
    validate(doc)
    metrics = doc["paths"]["/metrics"]["get"]
    assert metrics["security"] == [{"InternalKey": []}]
    assert "InternalKey" in doc["components"]["securitySchemes"]
    # The internal document's ErrorResponse differs from the public one: it is kept apart, not swapped.
    ref = metrics["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/InternalErrorResponse"
    assert (
        doc["paths"]["/v1/messages"]["post"].get("security") is None
    )  # public operations keep the global one
    assert document.operation_ids(doc)["GET /metrics"] == "getMetrics"


def test_the_audit_link_is_declared_for_both_call_operations() -> None:
    doc = document.merged_document()
    for path in ("/v1/messages", "/v1/chat/completions"):
        link = doc["paths"][path]["post"]["responses"]["200"]["links"]["AuditTrail"]
        assert link == {
            "operationId": "getAuditEvents",
            "parameters": {"request_id": "$response.header.request-id"},
        }


def render(**overrides: object) -> dict[str, object]:
    settings = {"max_examples": 100, "request_timeout": 30.0, "enforce_client_auth": False, **overrides}
    return tomllib.loads(config.render(config.RunConfig(**settings)))  # type: ignore[arg-type]


def test_config_keeps_keys_out_of_the_file() -> None:
    run = config.RunConfig(
        max_examples=10,
        request_timeout=5.0,
        enforce_client_auth=False,
        auth_headers=(("x-api-key", "${GATEWAY_CONTRACTS_FUZZ_API_KEY}"),),
        headers=(("x-provider-key", "sk-live-secret-0123456789"),),
    )
    text = config.render(run)
    data = tomllib.loads(text)
    assert data["auth"] == {"openapi": {"InternalKey": {"api_key": "${GATEWAY_CONTRACTS_FUZZ_INTERNAL_KEY}"}}}
    # The client key and every configured header ride on each call as placeholders; their values stay in the
    # child's environment.
    assert data["headers"]["x-api-key"] == "${GATEWAY_CONTRACTS_FUZZ_API_KEY}"
    assert data["headers"]["x-provider-key"].startswith("${GATEWAY_CONTRACTS_FUZZ_HEADER_")
    assert "sk-live-secret" not in text
    assert config.header_environment(run) == {
        "GATEWAY_CONTRACTS_FUZZ_HEADER_X_PROVIDER_KEY": "sk-live-secret-0123456789"
    }


def test_config_reads_streams_whole_and_replays_nothing() -> None:
    data = render()
    assert data["max-stream-events"] == 1_000_000
    assert data["generation"] == {"database": "none"}
    assert data["cache"] == {"enabled": False}
    assert data["hooks"] == "gateway_contracts.fuzz.hooks"


def test_max_tokens_is_not_a_sensitive_key_but_credentials_are() -> None:
    from schemathesis.core.output.sanitization import is_sensitive_key

    sanitization = render()["output"]["sanitization"]  # type: ignore[index]
    keys, markers = tuple(sanitization["keys-to-sanitize"]), tuple(sanitization["sensitive-markers"])
    for innocent in ("max_tokens", "max_completion_tokens", "input_tokens", "input_schema"):
        assert not is_sensitive_key(innocent, keys, markers), innocent
    for secret in ("x-api-key", "Authorization", "X-Ainfera-Internal-Key", "client_secret", "db_password"):
        assert is_sensitive_key(secret, keys, markers), secret


def test_ignored_auth_runs_on_the_metrics_endpoint_only() -> None:
    # The client key is a fixed header (negative cases must not drop it); AUTH-001/002 are check's.
    assert render()["checks"]["ignored_auth"] == {"enabled": False}  # type: ignore[index]
    assert render(enforce_client_auth=True)["checks"]["ignored_auth"] == {"enabled": False}  # type: ignore[index]
    metrics = render()["operations"][0]  # type: ignore[index]
    assert metrics == {"include-operation-id": "getMetrics", "checks": {"ignored_auth": {"enabled": True}}}


def test_max_examples_sets_the_fuzzing_and_stateful_phases() -> None:
    phases = render(max_examples=2000)["phases"]
    assert phases == {
        "fuzzing": {"generation": {"max-examples": 2000}},
        "stateful": {"generation": {"max-examples": 400}},
    }


def test_curl_reads_masked_credentials_from_the_environment() -> None:
    request = Request(
        "POST",
        "http://127.0.0.1:9/v1/messages",
        {"x-api-key": "[Filtered]", "traceparent": "it's", "Content-Type": "application/json"},
        b'{"max_tokens": 5}',
    )
    curl = findings.curl_command(request)
    assert '-H "x-api-key: ${GATEWAY_API_KEY}"' in curl
    assert "-H 'traceparent: it'\"'\"'s'" in curl
    assert "--data-binary '{\"max_tokens\": 5}'" in curl and curl.endswith("http://127.0.0.1:9/v1/messages")


def test_curl_sends_non_utf8_bodies_through_base64() -> None:
    curl = findings.curl_command(Request("POST", "http://h/x", {}, b"\xff\xfe"))
    assert curl.startswith("echo //4= | base64 -d | curl") and "--data-binary @-" in curl


def finding(title: str) -> findings.Finding:
    return findings.Finding(
        fingerprint=findings.fingerprint("POST /v1/messages", "sse_grammar", title),
        operation="POST /v1/messages",
        check="sse_grammar",
        code="ST901",
        title=title,
        message="",
        phase="fuzzing",
        status=200,
        response_excerpt="",
        curl=None,
    )


def test_baseline_accepts_known_findings_and_reports_fixed_ones(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    baseline.save(path, [finding("old"), finding("fixed")])
    loaded = baseline.Baseline.load(path)
    marked = loaded.mark([finding("old"), finding("new")])
    assert [(f.title, f.new) for f in marked] == [("old", False), ("new", True)]
    assert [e["title"] for e in loaded.fixed(marked)] == ["fixed"]


@pytest.mark.parametrize(
    "content", [None, "not json", '{"findings": []}', '{"format_version": 1, "findings": [1]}']
)
def test_a_bad_baseline_is_one_clear_error(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(baseline.BaselineError):
        baseline.Baseline.load(path)


def test_events_are_read_into_interactions_and_failures(tmp_path: Path) -> None:
    def b64(data: bytes) -> dict[str, str]:
        return {"$base64": base64.b64encode(data).decode()}

    scenario = {
        "phase": "fuzzing",
        "recorder": {
            "label": "POST /v1/messages",
            "cases": {"c1": {"value": {"method": "POST", "path": "/v1/messages"}}},
            "interactions": {
                "c1": {
                    "request": {
                        "method": "POST",
                        "uri": "http://h/v1/messages",
                        "headers": {"a": ["1"]},
                        "body": b64(b"{}"),
                    },
                    "response": {
                        "status_code": 400,
                        "headers": {"Content-Type": ["application/json"]},
                        "content": b64(b"x"),
                    },
                }
            },
            "checks": {
                "c1": [
                    {"name": "not_a_server_error", "status": "success"},
                    {
                        "name": "anthropic_error_envelope",
                        "status": "failure",
                        "failure_info": {
                            "failure": {
                                "code": "ST901",
                                "title": "t",
                                "message": "m",
                                "operation": "POST /v1/messages",
                            }
                        },
                    },
                ]
            },
        },
    }
    lines = [
        {"Initialize": {"seed": 7}},
        {"ScenarioFinished": scenario},
        {
            "NonFatalError": {
                "phase": "stateful",
                "label": "Stateful tests",
                "value": {"type": "E", "message": "boom"},
            }
        },
        {"EngineFinished": {"running_time": 1.5}},
    ]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    events = read_events(path)
    assert events.finished and events.seed == 7 and events.running_time == 1.5
    [item] = events.interactions
    assert (item.label, item.status, item.content_type, item.request.body) == (
        "POST /v1/messages",
        400,
        "application/json",
        b"{}",
    )
    [failure] = events.failures
    assert (failure.check, failure.title, failure.interaction) == ("anthropic_error_envelope", "t", item)
    collected = findings.collect(events)
    assert [(f.operation, f.check) for f in collected] == [
        ("POST /v1/messages", "anthropic_error_envelope"),
        ("Stateful tests", "error"),
    ]
    assert collected[0].curl and collected[1].curl is None


def test_ignored_auth_reproductions_send_no_credentials() -> None:
    request = Request(
        "GET", "http://h/metrics", {"X-Ainfera-Internal-Key": "[Filtered]", "Accept": "x"}, None
    )
    interaction = Interaction("fuzzing", "GET /metrics", "c", request, 200, "text/plain", b"")

    def curl(title: str) -> str | None:
        failure = CheckFailure(
            "fuzzing", "GET /metrics", "c", "ignored_auth", "ST401", title, "", interaction
        )
        return findings.collect(_events(failure))[0].curl

    missing, wrong = (
        curl("API accepts requests without authentication"),
        curl("API accepts invalid authentication"),
    )
    assert missing is not None and "Internal-Key" not in missing and "Accept: x" in missing
    assert wrong is not None and "X-Ainfera-Internal-Key: gateway-contracts-wrong-key" in wrong


def _events(*failures: CheckFailure) -> RunEvents:
    events = RunEvents()
    events.failures.extend(failures)
    return events


def test_the_hooks_module_registers_every_contract_check() -> None:
    from schemathesis.checks import CHECKS

    from gateway_contracts.fuzz import hooks

    assert set(hooks.CHECK_NAMES) <= set(CHECKS.get_all_names())
