"""The report's JSON Schema (``contracts/report.schema.json``) and validation against it.

Every report is validated before it is written and after it is read: a writer bug fails the run that made it,
and a hand-edited or foreign file is refused in one line instead of half-rendered.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator

from contracts import CONTRACTS_DIR

SCHEMA_VERSION = 2
"""Bumped whenever a change would break a reader of older reports. 1 was the bare per-clause summary."""
SCHEMA_PATH = CONTRACTS_DIR / "report.schema.json"


class ReportError(Exception):
    """A file that is not a report this harness can read (one line, for the user)."""


@functools.cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(doc: Any) -> list[str]:
    """Every schema violation, as ``path: message`` (empty when the document is a valid report)."""
    out = []
    for error in sorted(validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        out.append(f"{where}: {error.message[:300]}")
    return out


def validate_report(doc: Any, what: str = "the report") -> None:
    found = problems(doc)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ReportError(f"{what} does not match {SCHEMA_PATH.name}: {found[0]}{more}")
