"""Writing a report and everything derived from it.

The JSON (the typed report serialised, ``reports.codec``) is validated before anything is written, so a
directory never holds renderings of an invalid report. Each file is written to a temporary name and renamed,
so a CI step that reads them never sees half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from gateway_contracts.reports import html, junit, markdown
from gateway_contracts.reports.codec import to_document
from gateway_contracts.reports.model import Report
from gateway_contracts.reports.schema import validate_report

JSON_NAME = "report.json"
RENDERERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "junit": ("junit.xml", junit.render),
    "md": ("report.md", markdown.render),
    "html": ("report.html", html.render),
}
"""Format name (as ``gateway-contracts report --format`` takes it) → file name in a report directory, renderer."""


def serialise(report: Report) -> str:
    """``report.json``'s text, as is (whoever reads it validates it: ``reports.loader``)."""
    return json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n"


def to_json(report: Report) -> str:
    """``report.json``'s text, validated against the schema first (a writer bug fails the run that made it)."""
    doc = to_document(report)
    validate_report(doc)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(report: Report, fmt: str) -> str:
    text = to_json(report)  # validates, whatever the format
    if fmt == "json":
        return text
    return RENDERERS[fmt][1](report)


def encode(text: str) -> bytes:
    """UTF-8, with any lone surrogate (unencodable) replaced rather than failing the whole report."""
    return text.encode("utf-8", errors="replace")


def write_file(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(encode(text))
    os.replace(tmp, path)


def write_all(report: Report, directory: Path) -> dict[str, Path]:
    """Write report.json, junit.xml, report.md and report.html into ``directory``; their paths by format."""
    rendered = {"json": (JSON_NAME, to_json(report))}
    rendered.update({fmt: (name, fn(report)) for fmt, (name, fn) in RENDERERS.items()})
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt, (name, text) in rendered.items():
        paths[fmt] = directory / name
        write_file(paths[fmt], text)
    return paths
