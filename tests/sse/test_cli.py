"""``gateway-contracts sse-lint``: through the real entry point, ``gateway_contracts.cli.main``."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from gateway_contracts import cli
from gateway_contracts.commands import sse_lint
from gateway_contracts.errors import EXIT_FAILED, EXIT_USAGE
from tests.sse.vectors import VECTOR_DIR

LINE = re.compile(r"^(OAI-)?SSE-\d{3} event#\d+: .+ \| .*$")


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Until `sse_lint` is in cli.COMMANDS, register it for these tests; afterwards this changes nothing.
    if sse_lint not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, sse_lint])


def lint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(["sse-lint", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def vector(name: str) -> str:
    return str(VECTOR_DIR / name)


def test_clean_stream_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = lint(capsys, vector("anthropic/valid_text_and_tool.sse"))
    assert (status, out) == (0, "")
    assert "14 event(s), no violations" in err


def test_violations_exit_1_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = lint(capsys, vector("anthropic/stop_reason_banana.sse"))
    assert status == EXIT_FAILED
    [line] = out.splitlines()
    assert LINE.match(line) and line.startswith("SSE-023 event#6: stop_reason 'banana'")
    excerpt = line.split(" | ", 1)[1]
    assert len(excerpt) == 120 and excerpt.endswith("…")  # cut at 120 characters, on one line
    assert excerpt.startswith(
        'event: message_delta\\ndata: {"type":"message_delta","delta":{"stop_reason":"banana"'
    )
    assert "1 violation(s) of SSE-023" in err


def test_several_violations_in_stream_order(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = lint(capsys, vector("anthropic/events_after_message_stop.sse"))
    lines = out.splitlines()
    assert status == EXIT_FAILED and len(lines) == 3
    assert all(LINE.match(line) for line in lines)
    assert [int(re.search(r"event#(\d+)", line).group(1)) for line in lines] == [8, 9, 10]  # type: ignore[union-attr]


def test_should_level_findings_also_fail_unless_lenient(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = lint(capsys, vector("anthropic/crlf_line_endings.sse"))
    assert status == EXIT_FAILED and out.startswith("SSE-001 event#0: lines end with CRLF")
    status, out, _ = lint(capsys, vector("anthropic/crlf_line_endings.sse"), "--lenient")
    assert (status, out) == (0, "")


def test_openai_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(capsys, vector("openai/valid_tool_calls.sse"), "--dialect", "openai")[0] == 0
    status, out, _ = lint(capsys, vector("openai/missing_done.sse"), "--dialect", "openai")
    assert status == EXIT_FAILED and out.startswith("OAI-SSE-017 event#3: stream ended")
    # The wrong dialect is not silently accepted either.
    assert lint(capsys, vector("openai/valid_text.sse"))[0] == EXIT_FAILED


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = lint(capsys, vector("anthropic/truncated_tool_json.sse"), "--json")
    doc = json.loads(out)
    assert (
        status == EXIT_FAILED and doc["ok"] is False and doc["dialect"] == "anthropic" and doc["events"] == 7
    )
    [violation] = doc["violations"]
    assert violation["clause"] == "SSE-022" and violation["level"] == "MUST" and violation["index"] == 4
    assert set(violation) == {"clause", "level", "index", "excerpt", "message"}
    status, out, _ = lint(capsys, vector("anthropic/valid_text.sse"), "--json")
    assert status == 0 and json.loads(out)["violations"] == []


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = (VECTOR_DIR / "anthropic/missing_message_stop.sse").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    status, out, err = lint(capsys, "-")
    assert status == EXIT_FAILED and out.startswith("SSE-019 ") and "<stdin>" in err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert lint(capsys)[0] == EXIT_FAILED  # FILE defaults to standard input


def test_missing_file_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = lint(capsys, str(tmp_path / "nope.sse"))
    assert status == EXIT_USAGE and out == ""
    assert err.count("\n") == 1 and err.startswith("gateway-contracts: cannot read ") and "nope.sse" in err


def test_a_directory_is_not_a_stream(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = lint(capsys, str(tmp_path))
    assert status == EXIT_USAGE and err.startswith("gateway-contracts: cannot read ")


def test_unknown_dialect_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["sse-lint", vector("anthropic/valid_text.sse"), "--dialect", "grpc"])
    assert caught.value.code == EXIT_USAGE
