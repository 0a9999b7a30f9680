"""Evidence in reports: scrubbed by the project's scrubber before any file is written, and reproducible."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway_contracts.reports.model import Exchange
from gateway_contracts.reports.reproduce import curl, header_variable, rerun
from gateway_contracts.reports.write import write_all
from gateway_contracts.target import Target
from tests.reports.support import MUTANT_CLAUSE, PLANTED_KEY, Build, exchange, failed, load

PASSWORD = "hunter2-" + "q" * 12


def test_no_planted_secret_reaches_any_file(synthetic: Build, tmp_path: Path) -> None:
    leaky = exchange(
        path=f"/v1/messages?api_key={PLANTED_KEY}",
        body=json.dumps(
            {
                "model": "m",
                "metadata": {"password": PASSWORD},
                "messages": [{"role": "user", "content": "hi"}],
            }
        ),
        response=json.dumps(
            {"error": f"bad key {PLANTED_KEY}", "content": [{"type": "text", "text": "model output"}]}
        ),
        headers={"authorization": f"Bearer {PLANTED_KEY}"},
    )
    doc = synthetic(
        {
            "WIRE-005": failed(
                "WIRE-005",
                f"AssertionError: assert '{PLANTED_KEY}' not in text",
                exchanges=[leaky],
                token={"secret": PASSWORD},
            )
        }
    )
    paths = write_all(doc, tmp_path)
    for path in paths.values():
        text = path.read_text()
        assert PLANTED_KEY not in text and PASSWORD not in text, path.name
    (finding,) = next(c for c in load(paths["json"])["clauses"] if c["id"] == "WIRE-005")["findings"]
    x = finding["exchanges"][0]
    assert x["request"]["headers"]["x-api-key"].startswith("[REDACTED")
    assert "[REDACTED" in x["request"]["path"] and "[REDACTED" in finding["message"]
    # The harness's own prompt stays (the curl must reproduce); the gateway's output is prompt content: gone.
    assert '"content": "hi"' in x["request"]["body"] or '"content":"hi"' in x["request"]["body"]
    assert "model output" not in x["response"]["body"]
    assert finding["other"]["token"] == "[REDACTED:credential]"
    (curl_cmd,) = [c["command"] for c in finding["reproduce"] if c["kind"] == "curl"]
    assert (
        '"x-api-key: $GATEWAY_API_KEY"' in curl_cmd and '"authorization: Bearer $GATEWAY_API_KEY"' in curl_cmd
    )


def test_stream_responses_are_marked_as_transcripts(synthetic: Build) -> None:
    sse = exchange(status=200, response="event: ping\ndata: {}\n\n", content_type="text/event-stream")
    report = synthetic({"SSE-019": failed("SSE-019", exchanges=[sse])})
    (failure,) = report.clause("SSE-019").failures
    assert failure.clause == "SSE-019" and failure.evidence.exchanges[0].stream is True


def test_header_variables() -> None:
    assert header_variable("x-api-key") == "GATEWAY_API_KEY"
    assert header_variable("X-Ainfera-Internal-Key") == "GATEWAY_INTERNAL_KEY"
    assert header_variable("authorization") == "GATEWAY_API_KEY"  # a Bearer client key, as --api-key reads it
    assert header_variable("x-foo.bar") == "GATEWAY_FOO_BAR"


def test_rerun_command_names_the_test_and_the_inputs_not_secrets() -> None:
    target = Target(
        base_url="http://127.0.0.1:8080",
        db_url="postgresql://gw:pw@127.0.0.1/gw",
        internal_key="s3cret",
        features=frozenset({"kill-switch"}),
    )
    cmd = rerun(target, "test_wire.py::test_x[a b]")
    assert cmd.startswith("gateway-contracts check --target http://127.0.0.1:8080 ")
    assert "pw@" not in cmd and "s3cret" not in cmd and '--internal-key "$GATEWAY_INTERNAL_KEY"' in cmd
    assert '--db-url "$GATEWAY_DB_URL"' in cmd and "--timeout" not in cmd  # defaults are not repeated
    assert cmd.endswith("--feature kill-switch -k 'test_x[a b]'")
    embedded = Target(base_url="http://127.0.0.1:1", embedded=True)
    assert rerun(embedded, "a.py::test_y") == "gateway-contracts check -k test_y"
    request = Exchange("GET", "/x?q='1'", {"a": "b'c"}, "", 200, {}, "", False)
    assert curl("http://h", request) == "curl -sS -N -X GET 'http://h/x?q='\"'\"'1'\"'\"'' -H 'a: b'\"'\"'c'"


def _finding(run_dir: Path) -> dict[str, Any]:
    clause = next(c for c in load(run_dir / "report.json")["clauses"] if c["id"] == MUTANT_CLAUSE)
    finding: dict[str, Any] = clause["findings"][0]
    return finding


def test_curl_command_reproduces_the_failure(failing_run: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    command = next(c["command"] for c in _finding(failing_run)["reproduce"] if c["kind"] == "curl")
    out = subprocess.run(
        ["bash", "-c", command],
        env={**os.environ, "GATEWAY_API_KEY": "any-key"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "ainfera-mithril" in out.stdout


def test_check_command_reproduces_the_failure(
    failing_run: Path, broken_gateway: Target, tmp_path: Path
) -> None:
    command = next(c["command"] for c in _finding(failing_run)["reproduce"] if c["kind"] == "check")
    assert "-k 'test_no_dead_string_on_surface[llms_txt]'" in command
    assert broken_gateway.internal_key and broken_gateway.internal_key not in command
    assert broken_gateway.api_key and broken_gateway.api_key not in command
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "GATEWAY_INTERNAL_KEY": broken_gateway.internal_key,
        "GATEWAY_API_KEY": broken_gateway.api_key,
        "GATEWAY_DB_URL": broken_gateway.db_url or "",
    }
    proc = subprocess.run(
        ["bash", "-c", f"{command} --report-dir {tmp_path}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = load(tmp_path / "report.json")
    assert {c["id"] for c in report["clauses"] if c["result"] == "failed"} == {MUTANT_CLAUSE}
