"""Reading a report from disk: JSON, a known schema version, the schema itself, then the typed report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway_contracts.reports.codec import parse
from gateway_contracts.reports.model import Report
from gateway_contracts.reports.schema import SCHEMA_VERSION, ReportError, validate_report


def read_document(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``, whatever its schema version (a baseline may be older than this harness)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path} is not JSON: line {exc.lineno}: {exc.msg}") from None
    if not isinstance(doc, dict) or "schema_version" not in doc or "clauses" not in doc:
        raise ReportError(f"{path} is not a gateway-contracts report (no schema_version and clauses)")
    return doc


def load_document(path: Path) -> dict[str, Any]:
    """A report of this harness's schema version, validated."""
    doc = read_document(path)
    version = doc["schema_version"]
    if version != SCHEMA_VERSION:
        hint = "re-run check to get one" if isinstance(version, int) and version < SCHEMA_VERSION else ""
        raise ReportError(
            f"{path} is a version {version} report; this harness reads version {SCHEMA_VERSION}"
            + (f" ({hint})" if hint else "")
        )
    validate_report(doc, str(path))
    return doc


def load_report(path: Path) -> Report:
    """The typed report in ``path``: one of this harness's schema version, validated."""
    return parse(load_document(path))
