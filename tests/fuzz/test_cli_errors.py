"""Harness errors of `fuzz`: one line, a distinct exit status, no schemathesis run, as for `check`."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway_contracts.errors import EXIT_DATABASE, EXIT_UNREACHABLE, EXIT_USAGE
from tests.fuzz.support import run_fuzz


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--max-examples", "0"], "--max-examples"),
        (["--workers", "0"], "--workers"),
        (["--phases", "examples,warp"], "unknown phase(s) warp"),
        (["--update-baseline"], "--update-baseline needs --baseline"),
        (["--target", "ftp://127.0.0.1"], "http(s) URL"),
    ],
)
def test_usage_errors(
    argv: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_fuzz(*argv, "--report-dir", str(tmp_path)) == EXIT_USAGE
    out = capsys.readouterr().out.strip().splitlines()
    assert out and needle in out[-1] and out[-1].startswith("gateway-contracts: ")


def test_missing_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_fuzz("--baseline", str(tmp_path / "none.json"), "--report-dir", str(tmp_path))
    assert code == EXIT_USAGE and "no baseline at" in capsys.readouterr().out


def test_unreachable_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_fuzz(
        "--target", f"http://127.0.0.1:{free_port()}", "--model", "m", "--report-dir", str(tmp_path)
    )
    assert code == EXIT_UNREACHABLE and "cannot reach the gateway" in capsys.readouterr().out
    assert not (tmp_path / "fuzz" / "events.ndjson").exists()


def test_unreadable_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.embedded import embedded_target

    with embedded_target(tmp_path / "target") as target:
        code = run_fuzz(
            "--target",
            target.base_url,
            "--model",
            target.messages_model,
            "--db-url",
            f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
            "--report-dir",
            str(tmp_path),
        )
    assert code == EXIT_DATABASE and "cannot read the database" in capsys.readouterr().out
