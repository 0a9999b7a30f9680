"""The golden vectors of ``fixtures/sse_vectors`` (see its ``manifest.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway_contracts.sse import Dialect

VECTOR_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "sse_vectors"


@dataclass(frozen=True)
class Vector:
    file: str
    dialect: Dialect
    about: str
    expected: tuple[str, ...] | None
    """The exact set of clauses the validator reports, or None for a valid stream."""
    breaks: str | None
    sdk_accepts: bool

    @property
    def valid(self) -> bool:
        return self.expected is None

    @property
    def data(self) -> bytes:
        return (VECTOR_DIR / self.file).read_bytes()

    def __str__(self) -> str:
        return self.file


def _vector(raw: dict[str, Any]) -> Vector:
    expected = raw["expected"]
    return Vector(
        file=raw["file"],
        dialect=raw["dialect"],
        about=raw["about"],
        expected=None if expected == "valid" else tuple(expected),
        breaks=raw.get("breaks"),
        sdk_accepts=bool(raw.get("sdk_accepts", False)),
    )


def load_vectors() -> list[Vector]:
    doc = yaml.safe_load((VECTOR_DIR / "manifest.yaml").read_text(encoding="utf-8"))
    return [_vector(raw) for raw in doc["vectors"]]


VECTORS = load_vectors()
VALID = [v for v in VECTORS if v.valid]
INVALID = [v for v in VECTORS if not v.valid]
