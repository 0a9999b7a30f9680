"""`gateway-contracts check --db-url postgresql://…` passes on the reference gateway on PostgreSQL (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway_contracts.cli import main
from tests.support.postgres import pg_database, pg_fresh_url, pg_url  # noqa: F401 (pytest fixtures)


@pytest.mark.postgres
def test_check_passes_on_postgres(pg_fresh_url: str, tmp_path: Path) -> None:  # noqa: F811
    """Every profile passes with the embedded gateway's capture on a real PostgreSQL database."""
    code = main(["check", "--db-url", pg_fresh_url, "--report-dir", str(tmp_path)])
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [c["id"] for c in report["clauses"] if c["result"] == "failed"]
    assert (code, failed) == (0, [])
    assert report["profiles"]["capture"]["passed"] == len(
        [c for c in report["clauses"] if c["profile"] == "capture"]
    )
