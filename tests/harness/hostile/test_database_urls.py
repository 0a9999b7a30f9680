"""``--db-url`` values that are wrong (malformed, an unsupported scheme, unreachable, a file that is not a
database), generated, against every command that takes one: exit 4 from each alike."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

from gateway_contracts.errors import EXIT_DATABASE
from tests.harness.hostile.cases import AIOSQLITE_AFTERMATH, SEED, Case, assert_all_pass, run_all, suite_argv

MISSING_DB = "gc_hostile_no_such_db"


def db_urls(files: dict[str, Path]) -> Iterator[str]:
    """``--db-url`` values that are wrong: each must be exit 4 from every command that takes one. The only
    server named is 127.0.0.1 (closed ports, or PostgreSQL's with a database that does not exist)."""
    yield from (
        "",
        " ",
        "garbage",
        "postgresql://u:p@[::1/x",
        f"postgresql://postgres@127.0.0.1:1/{MISSING_DB}",
    )
    yield f"sqlite:///{files['missing']}"
    yield f"sqlite:///{files['directory']}"
    yield f"sqlite:///{files['garbage_db']}"
    yield f"sqlite:///{files['fifo']}"
    yield "sqlite:///:memory:"
    schemes = ["postgresql", "postgres", "postgresql+asyncpg", "sqlite", "mysql", "", "postgresql+nodriver"]
    separators = ["://", ":///", ":"]
    authorities = [
        "postgres@127.0.0.1:1",
        "postgres@127.0.0.1:5432",
        "u:p@127.0.0.1:99999",
        "127.0.0.1:x",
        "[::1",
        "@",
        "u:p@",
    ]
    databases = [
        f"/{MISSING_DB}",
        "",
        f"/{MISSING_DB}?sslmode=bogus",
        f"/{MISSING_DB}?connect_timeout=x",
        "/%00",
    ]
    combos = list(itertools.product(schemes, separators, authorities, databases))
    for scheme, sep, authority, database in random.Random(SEED + 2).sample(combos, 26):
        if scheme.startswith("sqlite") or (authority in ("@", "u:p@") and sep != ":"):
            # SQLite would create the file; PostgreSQL with no host would take the default server (5432):
            # name a missing database there, never a real one.
            database = f"/{MISSING_DB}"
        if scheme.startswith("sqlite"):
            authority = ""
            database = f"{files['missing']}"
        yield f"{scheme}{sep}{authority}{database}"


@AIOSQLITE_AFTERMATH
def test_every_command_on_bad_database_urls(stub_target: str, files: dict[str, Path], tmp_path: Path) -> None:
    """The same bad ``--db-url`` gets exit 4 from ``check``, ``fuzz``, ``audit-verify`` and ``db upgrade``."""
    cases = []
    for i, url in enumerate(db_urls(files)):
        report = str(tmp_path / f"d{i}")
        statuses = frozenset({EXIT_DATABASE})
        # A named pipe for SQLite may block a driver; an empty URL, until refused, runs the whole suite.
        here = "fifo" not in url
        suite_here = here and url != ""
        cases += [
            Case(f"audit-verify-{i}", ("audit-verify", "--db-url", url), statuses, in_process=here),
            Case(f"db-upgrade-{i}", ("db", "upgrade", "--db-url", url), statuses, in_process=here),
            Case(
                f"check-db-{i}",
                suite_argv("check", stub_target, "--db-url", url, "--report-dir", report),
                statuses,
                in_process=suite_here,
            ),
        ]
        if i % 3 == 0:
            argv = suite_argv("fuzz", stub_target, "--db-url", url, "--report-dir", report + "-fuzz")
            cases.append(Case(f"fuzz-db-{i}", argv, statuses, in_process=suite_here))
    assert_all_pass(run_all(cases))


@AIOSQLITE_AFTERMATH
def test_a_bad_database_url_is_exit_4_from_check_and_audit_verify_alike(
    stub_target: str, files: dict[str, Path], tmp_path: Path
) -> None:
    """One rule for ``--db-url``: malformed (garbage, an unsupported scheme) or unreachable, it is exit 4 from
    ``check``, ``audit-verify``, ``db upgrade`` and ``fuzz`` alike."""
    urls = ["garbage", "mysql://root@127.0.0.1/x", f"postgresql://postgres@127.0.0.1:1/{MISSING_DB}"]
    cases = []
    for i, url in enumerate(urls):
        report = str(tmp_path / f"r{i}")
        cases += [
            Case(f"audit-verify-{i}", ("audit-verify", "--db-url", url), frozenset({EXIT_DATABASE})),
            Case(f"db-upgrade-{i}", ("db", "upgrade", "--db-url", url), frozenset({EXIT_DATABASE})),
            Case(
                f"check-{i}",
                suite_argv("check", stub_target, "--db-url", url, "--report-dir", report),
                frozenset({EXIT_DATABASE}),
            ),
            Case(
                f"fuzz-{i}",
                suite_argv("fuzz", stub_target, "--db-url", url, "--report-dir", report + "f"),
                frozenset({EXIT_DATABASE}),
            ),
        ]
    assert_all_pass(run_all(cases))
