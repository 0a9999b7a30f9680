"""Fixtures for the report tests: synthetic reports (no gateway), and one live broken gateway to check for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_contracts.cli import main
from gateway_contracts.target import Target
from tests.reports.support import MUTANT, Build, CheckRun, build_report, check_args
from tests.support.embedded import embedded_target
from tests.support.servers import ServerThread


@pytest.fixture()
def synthetic() -> Build:
    return build_report


@pytest.fixture(scope="session")
def broken_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One live copy of the reference gateway with llms.txt carrying a dead string (breaks DISC-002 only)."""
    with embedded_target(tmp_path_factory.mktemp("broken"), mutant=MUTANT) as target:
        yield target


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """The reference gateway in this process, for plugin runs that need a target that answers."""
    from tests.support.gateway import start_gateway

    server = start_gateway(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def empty_waivers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("waivers") / "waivers.yaml"
    path.write_text("version: 1\nwaivers: []\n")
    return path


@pytest.fixture()
def run_check(broken_gateway: Target, tmp_path: Path, empty_waivers: Path) -> CheckRun:
    """``check --profile ainfera`` against the broken gateway; (exit status, report directory)."""
    counter = iter(range(100))

    def run(*extra: str, waivers: Path | None = None, default_waivers: bool = False) -> tuple[int, Path]:
        """``default_waivers``: give no --waivers, so check looks for ./waivers.yaml itself."""
        out = tmp_path / f"run{next(counter)}"
        args = check_args(broken_gateway, out, waivers or empty_waivers, ("ainfera",))
        if default_waivers:
            at = args.index("--waivers")
            del args[at : at + 2]
        return main([*args, *extra]), out

    return run


@pytest.fixture(scope="session")
def failing_run(
    broken_gateway: Target, tmp_path_factory: pytest.TempPathFactory, empty_waivers: Path
) -> Path:
    """One check of the broken gateway, shared by the tests that only read its reports."""
    out = tmp_path_factory.mktemp("failing-run")
    code = main(check_args(broken_gateway, out, empty_waivers, ("ainfera",)))
    assert code == 1
    return out
