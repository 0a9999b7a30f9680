"""Fixtures for the report tests: synthetic reports (no gateway), and one live broken gateway to check for real."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway_contracts.clauses import catalogue
from gateway_contracts.cli import main
from gateway_contracts.embedded import embedded_target
from gateway_contracts.reports.examples import check_args
from gateway_contracts.reports.model import Report
from gateway_contracts.results import ClauseResults, TestRecord
from gateway_contracts.target import Target
from tests.support.servers import ServerThread

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "reports" / "examples"
XSD = REPO / "fixtures" / "junit" / "junit-10.xsd"
MUTANT = "dead-string-llms"
MUTANT_CLAUSE = "DISC-002"
PLANTED_KEY = "sk-ant-api03-" + "Zq7" * 20
"""A credential-shaped value the synthetic tests plant in evidence: it must never reach a report file."""
UNREACHABLE = "http://127.0.0.1:9"


def exchange(
    path: str = "/v1/messages",
    status: int = 500,
    body: str = '{"model": "ainfera-inference", "messages": [{"role": "user", "content": "hi"}]}',
    response: str = '{"type": "error", "error": {"type": "api_error", "message": "boom"}}',
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An exchange as ``conformance.client.Exchanges`` records it (unscrubbed)."""
    return {
        "request": {
            "method": "POST",
            "path": path,
            "headers": {"x-api-key": PLANTED_KEY, "content-type": "application/json", **(headers or {})},
            "body": body,
        },
        "response": {
            "status": status,
            "headers": {"content-type": content_type, "request-id": "req_1"},
            "body": response,
        },
        "reproduce": "curl (the client's own, unscrubbed: must be replaced)",
    }


Records = dict[str, list[TestRecord]]


def build_report(records: Records, profiles: set[str] | None = None, seed: int | None = 7) -> Report:
    """A report through the real builder, from made-up test records; clauses without records pass."""
    cat = catalogue()
    results = ClauseResults(cat)
    for cid in cat.clauses:
        nodeid = f"test_synthetic.py::test_{cid.lower().replace('-', '_')}"
        results.collected(cid, nodeid)
        for rec in records.get(cid) or [TestRecord(nodeid, "passed", "call", "", 0.01)]:
            results.record(cid, rec)
    target = Target(base_url=UNREACHABLE, name="synthetic", features=frozenset({"scripted-upstream"}))
    return results.finish(profiles or set(cat.profiles), target, whole_suite=True, seed=seed)


def failed(cid: str, message: str = "AssertionError: deliberate", **evidence: Any) -> list[TestRecord]:
    nodeid = f"test_synthetic.py::test_{cid.lower().replace('-', '_')}"
    return [TestRecord(nodeid, "failed", "call", message, 0.02, evidence)]


Build = Callable[..., Report]


@pytest.fixture()
def synthetic() -> Build:
    return build_report


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def broken_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One live copy of the reference gateway with llms.txt carrying a dead string (breaks DISC-002 only)."""
    with embedded_target(tmp_path_factory.mktemp("broken"), mutant=MUTANT) as target:
        yield target


@pytest.fixture(scope="module")
def live_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """The reference gateway in this process, for plugin runs that need a target that answers."""
    from tests.gateway.conftest import start_gateway

    server = start_gateway(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def empty_waivers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("waivers") / "waivers.yaml"
    path.write_text("version: 1\nwaivers: []\n")
    return path


CheckRun = Callable[..., tuple[int, Path]]


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
