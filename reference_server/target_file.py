"""A target file for a gateway that is already running: the reference's own file (``contracts/targets/
reference.toml``) with the running instance's ready-line values in place of its start command.

``selftest`` starts one embedded gateway per mutant itself and hands ``check`` and ``fuzz`` this file, so both
runs check the one gateway (as the harness would see it after starting it: the same options, the same values)
and neither pays for a start of its own. The harness reads the file as it reads anyone's; nothing of it is
imported here.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from contracts import CONTRACTS_DIR

REFERENCE_TARGET = CONTRACTS_DIR / "targets" / "reference.toml"
STARTED_ONLY = ("target.start", "target.start_timeout")
"""Keys of the file that only describe how to start the gateway: gone once it runs."""


def running_target(ready: dict[str, Any], path: Path, source: Path = REFERENCE_TARGET) -> Path:
    """Write ``source`` with the ready line's values (``ready``, keyed by dotted option names) set and its start
    command removed, to ``path``; returns ``path``."""
    doc = tomllib.loads(source.read_text(encoding="utf-8"))
    for key in STARTED_ONLY:
        table, _, name = key.rpartition(".")
        doc.get(table, {}).pop(name, None)
    for key, value in ready.items():
        table, _, name = key.rpartition(".")
        if table:
            doc.setdefault(table, {})[name] = value
        else:
            doc[name] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(doc), encoding="utf-8")
    return path


def profiles(source: Path = REFERENCE_TARGET) -> list[str]:
    """The profiles the file names."""
    return list(tomllib.loads(source.read_text(encoding="utf-8"))["target"]["profiles"])


def dumps(doc: dict[str, Any]) -> str:
    """TOML for a document of top-level values and one level of tables (what target files hold)."""
    lines = [f"{key} = {_value(v)}" for key, v in doc.items() if not isinstance(v, dict)]
    for table, values in doc.items():
        if isinstance(values, dict):
            lines += ["", f"[{table}]", *(f"{key} = {_value(v)}" for key, v in values.items())]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(
            value, ensure_ascii=False
        )  # a JSON string is a TOML basic string (the same escapes)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for a {type(value).__name__} in a target file")
