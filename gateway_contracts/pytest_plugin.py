"""The conformance suite as a pytest plugin (entry point ``pytest11: gateway_contracts``).

A gateway team runs it inside its own pytest set-up::

    pytest --pyargs gateway_contracts.conformance --gateway-url http://127.0.0.1:8080 \
        --gateway-db-url postgresql://... --gateway-internal-key ... -m "clause"

What the plugin enforces:
- every conformance test carries ``@pytest.mark.clause("ID", ...)`` and every ID is in the catalogue; anything
  else is a collection error, so a typo can never silently check nothing;
- a test whose profile needs something the user did not give (a database URL, a log file, the internal key) or a
  feature the gateway lacks is *skipped with the reason*, never failed;
- per-clause results (passed / failed / skipped / untested) are written as JSON when ``--gateway-report`` is set,
  and a MUST clause of a selected profile with no test at all fails the session.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from contracts.clauses import Catalogue, Clause, catalogue
from gateway_contracts.errors import CliError
from gateway_contracts.failures import Blocked, ClauseFailure
from gateway_contracts.reports.model import blocked_reason, not_judged_reason
from gateway_contracts.results import ClauseResults, TestRecord
from gateway_contracts.target import KNOWN_NEEDS, Target, options
from gateway_contracts.target.config import ConfigError, resolve

if TYPE_CHECKING:
    from gateway_contracts.conformance.examples import Pregenerated

CONFORMANCE_PACKAGE = "gateway_contracts/conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("gateway-contracts", "gateway conformance (gateway-contracts)")
    # Every target option (the same as check's flags and the target file's keys), as --gateway-*.
    options.add_pytest_options(g)
    g.addoption("--gateway-report", help="write per-clause results as JSON to this file")
    g.addoption(
        "--gateway-clause", action="append", default=[], help="only the tests of this clause; repeatable"
    )


class ConformancePlugin:
    def __init__(
        self, config: pytest.Config, target: Target | None = None, early_examples: Pregenerated | None = None
    ) -> None:
        """``target``: one already resolved (and checked) by ``check``; else the options say, when a test
        first needs it. ``early_examples``: the property tests' examples, drawn since before the target started
        (``check``); the suite uses them if they are the ones it needs."""
        self.config = config
        self.early_examples = early_examples
        self.catalogue: Catalogue = catalogue()
        self.results = ClauseResults(self.catalogue)
        self.target: Target | None = target
        self._stack = ExitStack()
        self.started = time.time()
        self.collected_modules: set[str] = set()
        self.stopped: str | None = None
        """Why the run stopped before any clause was judged (the preflight's line), if it did."""

    @property
    def selected_profiles(self) -> set[str]:
        """The profiles the target is checked against: its file's or flags' list, else the generic ones."""
        chosen = self.target.profiles if self.target is not None else ()
        if not chosen:
            chosen = tuple(self.config.getoption("target_target_profiles") or ())
        return set(chosen or self.catalogue.generic_profiles)

    @property
    def whole_suite(self) -> bool:
        """Only a run that collected every conformance module can say a clause has no test."""
        modules = {p.name for p in (Path(__file__).parent / "conformance").glob("test_*.py")}
        return bool(modules) and modules <= self.collected_modules

    @property
    def seed(self) -> int | str | None:
        """The hypothesis seed, for the report (an integer when it is one, as ``check --seed`` gives it)."""
        value = self.config.getoption("--hypothesis-seed", None)
        if value is None:
            return None
        text = str(value)
        return int(text) if text.lstrip("-").isdigit() else text

    # -- the target ------------------------------------------------------------------------------------------
    def resolve_target(self) -> Target:
        if self.target is not None:
            return self.target
        flags = options.cli_values(lambda dest: self.config.getoption(dest, None))
        try:
            spec = resolve(self.config.getoption("target_config", None), flags)
        except ConfigError as exc:
            raise pytest.UsageError(f"gateway-contracts: {exc}") from None
        try:
            if spec.start:
                from gateway_contracts.target.start import started

                target = self._stack.enter_context(started(spec))
            else:
                target = spec
            from gateway_contracts.target.preflight import preflight

            preflight(target)
        except CliError as exc:
            # One line and the harness's own status, as check gives: a gateway that cannot be reached or that
            # refuses the set-up must not become dozens of failed clauses, nor a report of clause verdicts.
            self.stopped = str(exc)
            pytest.exit(f"gateway-contracts: {exc}", returncode=exc.status)
        self.target = target
        return target

    # -- collection ------------------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        # tryfirst: see every item before -m/-k deselect any, so "untested" means "no test exists".
        problems: list[str] = []
        for item in items:
            if not _is_conformance(item):
                continue
            self.collected_modules.add(item.path.name)
            ids = [i for mark in item.iter_markers("clause") for i in mark.args]
            unknown_needs = sorted(set(_needs_of(item)) - KNOWN_NEEDS)
            if unknown_needs:
                problems.append(f"{item.nodeid}: unknown need(s) {', '.join(unknown_needs)}")
            if not ids:
                problems.append(f"{item.nodeid}: a conformance test must say which clause it checks")
            for cid in ids:
                if cid not in self.catalogue.clauses:
                    problems.append(f"{item.nodeid}: unknown clause id {cid!r} (not in contracts/clauses)")
                else:
                    self.results.collected(cid, item.nodeid, _needs_of(item))
        if problems:
            raise pytest.UsageError("clause errors:\n  " + "\n  ".join(problems))
        wanted = set(config.getoption("--gateway-clause") or ())
        if wanted:
            unknown = sorted(wanted - set(self.catalogue.clauses))
            if unknown:
                raise pytest.UsageError(
                    f"unknown clause id(s) {', '.join(unknown)} (not in contracts/clauses)"
                )
            keep: list[pytest.Item] = []
            drop: list[pytest.Item] = []
            for item in items:
                marked = {i for mark in item.iter_markers("clause") for i in mark.args}
                (keep if marked & wanted or not _is_conformance(item) else drop).append(item)
            if drop:
                config.hook.pytest_deselected(items=drop)
                items[:] = keep

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if not _is_conformance(item):
            return
        reason = self.skip_reason(_clauses_of(item, self.catalogue), _needs_of(item))
        if reason:
            pytest.skip(reason)

    def skip_reason(self, clauses: list[Clause], needs: list[str] | None = None) -> str | None:
        target = self.resolve_target()  # first: the target's file says which profiles are selected
        for clause in clauses:
            if clause.profile not in self.selected_profiles:
                return f"profile {clause.profile} not selected"
        for need in needs or ():
            reason = target.lacks(need)
            if reason:
                return reason
        return None

    # -- results ---------------------------------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ids = getattr(report, "clause_ids", None)
        if not ids:
            return
        if report.when == "call" or report.outcome != "passed":
            evidence = dict(getattr(report, "clause_evidence", {}) or {})

            def record(cid: str, outcome: str, message: str) -> None:
                self.results.record(
                    cid,
                    TestRecord(
                        nodeid=report.nodeid,
                        outcome=outcome,
                        when=report.when,
                        message=message,
                        duration=report.duration,
                        evidence=evidence if outcome == "failed" else {},
                    ),
                )

            if report.failed:
                # One fault, one clause: the failure goes to the clause whose check failed (typed failures say
                # which; a plain assert is the test's first, primary clause). The test's other clauses were not
                # judged by this run of it.
                attributed, blocked = getattr(report, "attributed", (ids[0], False))
                message = _short_failure(report)
                record(attributed, "failed", message)
                why = blocked_reason(attributed) if blocked else not_judged_reason(attributed)
                for cid in ids:
                    if cid != attributed:
                        record(cid, "skipped", why)
                return
            reason = ""
            if report.skipped and isinstance(report.longrepr, tuple):
                reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            for cid in ids:
                record(cid, "skipped" if report.skipped else "passed", reason)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
        if _is_conformance(item):
            ids = [i for mark in item.iter_markers("clause") for i in mark.args]
            report.clause_ids = ids  # type: ignore[attr-defined]
            report.clause_evidence = item.stash.get(EVIDENCE_KEY, {})  # type: ignore[attr-defined]
            error = call.excinfo.value if call.excinfo is not None else None
            if isinstance(error, ClauseFailure) and error.clause in self.catalogue.clauses:
                report.attributed = (error.clause, False)  # type: ignore[attr-defined]
            elif isinstance(error, Blocked) and error.by in self.catalogue.clauses:
                report.attributed = (error.by, True)  # type: ignore[attr-defined]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.stopped is not None:
            self._stack.close()
            return  # no report: nothing was judged
        report = self.results.finish(
            self.selected_profiles, self.target, whole_suite=self.whole_suite, seed=self.seed
        )
        path = self.config.getoption("--gateway-report")
        if path:
            from gateway_contracts.reports.write import serialise, write_file

            # Not validated here (a traceback at session end helps no one): check validates it as it reads it.
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_file(Path(path), serialise(report))
        if self.whole_suite and report.verdict.untested_must and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        self._stack.close()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.whole_suite:
            return
        untested = self.results.untested_must(self.selected_profiles)
        if untested:
            terminalreporter.write_line(
                f"MUST clauses with no test (fail the run): {', '.join(untested)}", red=True
            )


EVIDENCE_KEY = pytest.StashKey[dict[str, Any]]()


def _is_conformance(item: pytest.Item) -> bool:
    """A test of the conformance package, or any test (a team's own) that claims to check a clause."""
    in_package = CONFORMANCE_PACKAGE in str(item.path).replace(os.sep, "/")
    return in_package or item.get_closest_marker("clause") is not None


def _needs_of(item: pytest.Item) -> list[str]:
    """What a test declares it needs of the target (``@pytest.mark.needs("db", "surface:messages")``)."""
    return [n for mark in item.iter_markers("needs") for n in mark.args]


def _clauses_of(item: pytest.Item, cat: Catalogue) -> list[Clause]:
    return [cat.clauses[i] for mark in item.iter_markers("clause") for i in mark.args if i in cat.clauses]


def _short_failure(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0][:500]
    return str(report.longrepr).strip().splitlines()[-1][:500] if report.longrepr else "failed"


_PLUGIN_NAME = "gateway-contracts-conformance"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the contract clause IDs this test checks")
    config.addinivalue_line(
        "markers",
        "needs(*needs): what the test needs of the target; skipped with the reason when it lacks one",
    )
    register_plugin(config)


def register_plugin(
    config: pytest.Config, target: Target | None = None, early_examples: Pregenerated | None = None
) -> None:
    """Register the conformance plugin once; ``check`` calls this first with the target it resolved."""
    if not config.pluginmanager.has_plugin(_PLUGIN_NAME):
        config.pluginmanager.register(ConformancePlugin(config, target, early_examples), _PLUGIN_NAME)


def plugin_of(config: pytest.Config) -> ConformancePlugin:
    plugin = config.pluginmanager.get_plugin(_PLUGIN_NAME)
    assert isinstance(plugin, ConformancePlugin)
    return plugin
