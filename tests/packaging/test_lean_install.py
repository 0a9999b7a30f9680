"""The harness installs without the reference gateway's stack, and checks the reference gateway by URL.

A fresh venv gets ``pip install`` of this checkout *without* the ``reference`` extra (pip's cache and the
machine's pip configuration apply). Then: the server-side packages are absent; ``check --help``, ``sse-lint`` and
``scrub`` work; ``reference-gateway`` says in one line what to install; and ``check`` by URL, from the lean venv,
passes the generic profiles against the reference gateway started from this (the full) install.

When pip cannot reach a package index the test is skipped with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reference_server.embedded import embedded

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 900.0
RUN_TIMEOUT = 600.0
SERVER_STACK = ("aiohttp", "alembic", "asyncpg", "uvloop")
GENERIC_PROFILES = ("wire", "openai", "metrics", "logs", "trace", "capture")
_NO_INDEX = re.compile(
    r"Failed to establish a new connection|Temporary failure in name resolution|Network is unreachable|"
    r"ConnectTimeout|Read timed out|No matching distribution found|Could not find a version that satisfies",
)


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _source(into: Path) -> Path:
    """What a wheel is built from: the project file, the README and the three packages (no caches, no venv)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, into / name)
    for package in ("gateway_contracts", "reference_server", "contracts"):
        shutil.copytree(
            ROOT / package,
            into / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
    return into


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lean")
    (base / "src").mkdir()
    source = _source(base / "src")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    try:
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"pip install took longer than {INSTALL_TIMEOUT:g}s")
    if done.returncode != 0:
        output = done.stdout + done.stderr
        last = (output.strip().splitlines() or ["no output"])[-1]
        if _NO_INDEX.search(output) and not _ci():
            pytest.skip(f"pip cannot reach a package index here: {last}")
        pytest.fail(f"pip install of the harness failed: {last}")
    return venv


def run(venv: Path, tool: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / tool), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=venv.parent,  # not the checkout: nothing of it may shadow the installed packages
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GATEWAY_API_KEY")},
    )


def test_the_server_stack_is_absent(lean_venv: Path) -> None:
    probe = f"import importlib.util as u; print(' '.join(m for m in {SERVER_STACK!r} if u.find_spec(m)))"
    found = run(lean_venv, "python", "-c", probe).stdout.split()
    assert found == [], f"the lean install pulled in the server stack: {found}"


def test_check_help_sse_lint_and_scrub_work(lean_venv: Path, tmp_path: Path) -> None:
    help_ = run(lean_venv, "gateway-contracts", "check", "--help")
    assert help_.returncode == 0 and "--start" in help_.stdout, help_.stderr
    stream = ROOT / "fixtures" / "sse_vectors" / "anthropic" / "valid_text.sse"
    lint = run(lean_venv, "gateway-contracts", "sse-lint", str(stream))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    broken = ROOT / "fixtures" / "sse_vectors" / "anthropic" / "event_after_error.sse"
    assert run(lean_venv, "gateway-contracts", "sse-lint", str(broken)).returncode == 1
    secret = "sk-ant-api03-" + "Ab1" * 30
    log = f'{{"level": "info", "message": "auth with {secret}"}}\nplain line\n'
    scrubbed = run(lean_venv, "gateway-contracts", "scrub", stdin=log)
    assert scrubbed.returncode == 0, scrubbed.stderr
    assert secret not in scrubbed.stdout and "[REDACTED:anthropic]" in scrubbed.stdout
    assert scrubbed.stdout.endswith("plain line\n")


def test_reference_gateway_says_what_to_install(lean_venv: Path, tmp_path: Path) -> None:
    done = run(lean_venv, "reference-gateway", "serve")
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'gateway-contracts[reference]'" in lines[0], done.stderr


def test_check_by_url_passes_the_generic_profiles(lean_venv: Path, tmp_path: Path) -> None:
    """The reference gateway from this install, the harness from the lean one: by URL, as any gateway."""
    with embedded(tmp_path / "gateway", kill_switch=False) as ready:
        flags = [
            *(
                "--target",
                ready["target.base_url"],
                "--model",
                "ainfera-inference",
                "--body-limit",
                "1048576",
            ),
            *("--api-key", ready["auth.api_key"], "--auth-enforced", "--internal-key", ready["metrics.key"]),
            *("--metrics-auth", "header:X-Ainfera-Internal-Key", "--log-file", ready["logs.file"]),
            *("--upstream-url", ready["features.upstream_url"]),
            *(
                x
                for f in ("scripted-upstream", "upstream-echo", "backend-selection")
                for x in ("--feature", f)
            ),
            *(x for p in GENERIC_PROFILES for x in ("--profile", p)),
        ]
        db = ("--db-url", ready["capture.db_url"])
        done = run(lean_venv, "gateway-contracts", "check", *flags, *db, "--report-dir", str(tmp_path / "r"))
        # A PostgreSQL capture database needs the postgres extra's driver: one line saying so, exit 4.
        pg = ("--db-url", "postgresql://postgres@127.0.0.1:5432/test")
        no_driver = run(
            lean_venv, "gateway-contracts", "check", *flags, *pg, "--report-dir", str(tmp_path / "p")
        )
    verdict = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0, f"{verdict}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    assert "gateway-contracts: PASS" in done.stdout and "PARTIAL" not in done.stdout, done.stdout[-3000:]
    assert no_driver.returncode == 4, no_driver.stdout[-2000:] + no_driver.stderr
    assert "pip install 'gateway-contracts[postgres]'" in no_driver.stdout + no_driver.stderr
