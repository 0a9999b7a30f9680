"""Writing a report and everything derived from it.

The JSON is validated before anything is written, so a directory never holds renderings of an invalid report.
Each file is written to a temporary name and renamed, so a CI step that reads them never sees half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway_contracts.reports import html, junit, markdown
from gateway_contracts.reports.model import Report, parse
from gateway_contracts.reports.schema import validate_report

JSON_NAME = "report.json"
RENDERERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "junit": ("junit.xml", junit.render),
    "md": ("report.md", markdown.render),
    "html": ("report.html", html.render),
}
"""Format name (as ``gateway-contracts report --format`` takes it) → file name in a report directory, renderer."""


def to_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(doc: dict[str, Any], fmt: str) -> str:
    validate_report(doc)
    if fmt == "json":
        return to_json(doc)
    return RENDERERS[fmt][1](parse(doc))


def encode(text: str) -> bytes:
    """UTF-8, with any lone surrogate (unencodable) replaced rather than failing the whole report."""
    return text.encode("utf-8", errors="replace")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(encode(text))
    os.replace(tmp, path)


def write_all(doc: dict[str, Any], directory: Path) -> dict[str, Path]:
    """Write report.json, junit.xml, report.md and report.html into ``directory``; their paths by format."""
    validate_report(doc)
    report = parse(doc)
    directory.mkdir(parents=True, exist_ok=True)
    rendered = {"json": (JSON_NAME, to_json(doc))}
    rendered.update({fmt: (name, fn(report)) for fmt, (name, fn) in RENDERERS.items()})
    paths = {}
    for fmt, (name, text) in rendered.items():
        paths[fmt] = directory / name
        _write(paths[fmt], text)
    return paths
