"""``gateway-contracts scrub``: lines in, the same lines scrubbed out; ``--check`` for CI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway_contracts.cli import main

ANTHROPIC = "sk-ant-api03-" + "R2d2C3po" * 11 + "AA"
AWS = "AKIA" + "QYLPMN5HHHFPZAM2"


def run(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "gateway_contracts.cli", "scrub", *args], input=stdin, capture_output=True
    )


def test_json_lines_structurally_other_lines_by_shape() -> None:
    """JSON lines lose values under sensitive keys and secrets inside values; text lines lose secrets by shape;
    clean lines, CRLF endings and a missing final newline come through byte for byte."""
    stdin = (
        b'{"level":"INFO","message":"call","headers":{"x-api-key":"plain-value-1"},"usage":{"input_tokens":3}}\n'
        + f"plain text with {ANTHROPIC} inside\r\n".encode()
        + b'{"clean":   "json",  "kept": [1, 2]}\n'
        + b"not json { at all\n"
        + f"last line {AWS}".encode()
    )
    done = run([], stdin)
    assert done.returncode == 0
    out = done.stdout.split(b"\n")
    first = json.loads(out[0])
    assert first["headers"] == {"x-api-key": "[REDACTED:credential]"} and first["usage"] == {
        "input_tokens": 3
    }
    assert out[1] == b"plain text with [REDACTED:anthropic] inside\r"
    assert out[2] == b'{"clean":   "json",  "kept": [1, 2]}'
    assert out[3] == b"not json { at all"
    assert out[4] == b"last line [REDACTED:aws]"


def test_undecodable_bytes_pass_through() -> None:
    """Bytes that are not UTF-8 are kept as they were; the line is still scrubbed."""
    done = run([], b"\xff\xfe binary " + ANTHROPIC.encode() + b"\n")
    assert done.stdout == b"\xff\xfe binary [REDACTED:anthropic]\n"


def test_check_reports_rule_ids_not_secrets(tmp_path: Path) -> None:
    """--check lists file:line: rule id (family) for each finding, never the secret, and exits 1; a clean file
    exits 0 with no output."""
    leaky = tmp_path / "leaky.log"
    leaky.write_text(f'{{"password": "hunter2"}}\nok\nkey {ANTHROPIC}\n')
    clean = tmp_path / "clean.log"
    clean.write_text('{"message": "fine", "max_tokens": 5}\n')
    done = run(["--check", str(leaky)], b"")
    assert done.returncode == 1
    report = done.stdout.decode()
    assert f"{leaky}:1: SCRUB-KEY-CREDENTIAL (credential)" in report
    assert f"{leaky}:3: SCRUB-ANTHROPIC-KEY (anthropic)" in report
    assert "hunter2" not in report and ANTHROPIC not in report
    ok = run(["--check", str(clean)], b"")
    assert ok.returncode == 0 and ok.stdout == b""


def test_summary_and_missing_file(tmp_path: Path) -> None:
    """--summary counts redactions per family on stderr; an unreadable file is a usage error (exit 2), one line."""
    done = run(["--summary"], f"{AWS} {ANTHROPIC}\n".encode())
    assert b"aws: 1" in done.stderr and b"anthropic: 1" in done.stderr
    assert main(["scrub", str(tmp_path / "missing.log")]) == 2
