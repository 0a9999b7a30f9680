"""The target file, its flags and the preflight: a set-up the gateway refuses stops the run with one line and the
harness's own status, never a clause verdict; bad configuration is a usage error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_contracts.errors import EXIT_REFUSED, EXIT_USAGE
from gateway_contracts.target import options
from gateway_contracts.target.config import REFERENCE_FILE, ConfigError, read_file, resolve
from gateway_contracts.target.flags import to_flags
from tests.support.gateway import start_gateway
from tests.support.servers import ServerThread

KEY = "sk-gc-config-test-0123456789abcdef"
MODEL = "ainfera-inference"


def run(cmd: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway_contracts.cli", cmd, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """The reference gateway enforcing one client key."""
    server = start_gateway(tmp_path_factory.mktemp("keyed"), client_keys=(KEY,))
    yield server
    server.stop()


def _refused(proc: subprocess.CompletedProcess[str], report_dir: Path, words: str) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == EXIT_REFUSED, (proc.returncode, proc.stdout[-400:], proc.stderr[-400:])
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "no clause judged" in lines[0] and words in lines[0], lines[0]
    assert not (report_dir / "report.json").exists(), "a refused set-up produced clause verdicts"
    assert not (report_dir / "fuzz" / "findings.json").exists(), "a refused set-up produced fuzz findings"


@pytest.mark.parametrize("cmd", ["check", "fuzz"])
def test_refused_key_stops_the_run(keyed: ServerThread, tmp_path: Path, cmd: str) -> None:
    proc = run(
        cmd,
        "--target",
        keyed.url,
        "--model",
        MODEL,
        "--api-key",
        "not-the-key",
        "--report-dir",
        str(tmp_path),
    )
    _refused(proc, tmp_path, "401")
    assert "not-the-key" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("cmd", ["check", "fuzz"])
def test_unknown_model_stops_the_run(keyed: ServerThread, tmp_path: Path, cmd: str) -> None:
    proc = run(
        cmd,
        "--target",
        keyed.url,
        "--model",
        "no-such-model",
        "--api-key",
        KEY,
        "--report-dir",
        str(tmp_path),
    )
    _refused(proc, tmp_path, "--messages-model")


def test_wrong_auth_style_stops_the_run(keyed: ServerThread, tmp_path: Path) -> None:
    # The key itself is right; sent under a header the gateway does not read, it is no key at all.
    proc = run(
        "check",
        "--target",
        keyed.url,
        "--model",
        MODEL,
        "--api-key",
        KEY,
        "--auth",
        "header:x-other-key",
        "--report-dir",
        str(tmp_path),
    )
    _refused(proc, tmp_path, "--auth")


def test_accepted_set_up_without_a_file(keyed: ServerThread, tmp_path: Path) -> None:
    """`check --target URL --api-key K --auth bearer --model M` runs, and only the generic profiles."""
    proc = run(
        "check",
        "--target",
        keyed.url,
        "--api-key",
        KEY,
        "--auth",
        "bearer",
        "--model",
        MODEL,
        "--auth-enforced",
        "--clause",
        "AUTH-002",
        "--clause",
        "WIRE-001",
        "--report-dir",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-1500:] + proc.stderr[-500:]
    assert (tmp_path / "report.json").exists()
    assert "(secret, from a flag)" in (tmp_path / "report.json").read_text()
    assert KEY not in (tmp_path / "report.json").read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--target", ""], "--target is empty"),
        (["--target", "http://[::1"], "not a valid URL"),
        (["--target", "ftp://127.0.0.1", "--model", "m"], "http(s) URL"),
        (["--target", "http://127.0.0.1:1", "--model", "m", "--auth", "cookie"], "--auth must be one of"),
        (["--target", "http://127.0.0.1:1"], "no model"),
        (
            ["--target", "http://127.0.0.1:1", "--model", "m", "--header", "no-colon"],
            "--header takes NAME:VALUE",
        ),
        (["--config", "/nonexistent/gc.toml"], "does not exist"),
        (["--config", ""], "--config is empty"),
    ],
)
def test_bad_configuration_is_a_usage_error(tmp_path: Path, args: list[str], words: str) -> None:
    proc = run("check", *args, "--report-dir", str(tmp_path))
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == EXIT_USAGE, (proc.returncode, proc.stderr[-300:])
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_file_unknown_key_and_missing_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[auth]\napi_kee = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'auth\.api_kee'"):
        read_file(bad)
    unset = tmp_path / "unset.toml"
    unset.write_text('[auth]\napi_key = "${GC_TEST_UNSET_VARIABLE}"\n')
    monkeypatch.delenv("GC_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(ConfigError, match="GC_TEST_UNSET_VARIABLE"):
        read_file(unset)


def test_file_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        'surfaces = ["messages"]\n[target]\nbase_url = "http://127.0.0.1:9/"\n[auth]\napi_key = "${GC_KEY}"\n'
        'style = "header:X-Team-Key"\n[models]\ndefault = "m1"\n[headers]\nx-tenant = "t1"\n'
        '[route_headers."/v1/messages"]\nx-provider = "p"\n'
    )
    monkeypatch.setenv("GC_KEY", "secret-value")
    target = resolve(path, {"headers": ["x-extra: e"], "models.default": "m2"})
    assert target.base_url == "http://127.0.0.1:9"
    assert target.messages_model == "m2"  # the flag wins over the file
    assert target.auth_headers() == {"x-team-key": "secret-value"}
    assert target.headers_for("/v1/messages") == {"x-tenant": "t1", "x-extra": "e", "x-provider": "p"}
    assert target.headers_for("/v1/chat/completions") == {"x-tenant": "t1", "x-extra": "e"}
    assert target.surfaces == frozenset({"messages"})
    assert target.given["auth.api_key"] == "(secret, from $GC_KEY)"
    assert "secret-value" not in str(target.given)
    # The flags a resolved target hands on describe the same target.
    again = resolve(
        None, options.cli_values(_namespace(to_flags(target)).__getattribute__), default_file=None
    )
    assert (again.base_url, again.messages_model, again.auth, again.api_key) == (
        target.base_url,
        target.messages_model,
        target.auth,
        target.api_key,
    )
    assert again.headers_for("/v1/messages") == target.headers_for("/v1/messages")


def _namespace(argv: list[str]) -> object:
    import argparse

    parser = argparse.ArgumentParser()
    options.add_arguments(parser)
    return parser.parse_args(argv)


def test_every_option_is_a_flag_a_pytest_option_and_a_file_key() -> None:
    """Defined once: each option's file key is read by the file reader, and its flag parses."""
    import argparse

    parser = argparse.ArgumentParser()
    options.add_arguments(parser)
    flags = {a for action in parser._actions for a in action.option_strings}
    for o in options.OPTIONS:
        assert o.flag in flags, o.key
        assert o.key in {op.key for op in options.OPTIONS}
    reference = read_file(REFERENCE_FILE)
    assert reference["target.start"] == ["python3", "-m", "reference_server", "embedded"]
    assert set(reference) <= {o.key for o in options.OPTIONS}
