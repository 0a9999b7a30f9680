"""The clause catalogue: ``contracts/clauses/*.yaml``, validated against ``contracts/clause.schema.json``.

Clauses are reviewed apart from the tests that check them (as Kubernetes conformance keeps its "behaviors"): a
test refers to a clause by ID with ``@pytest.mark.clause("WIRE-001")``, and the plugin refuses an ID that is not
here. A duplicate ID, a file that breaks the schema or an unknown profile is a ``CatalogueError``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from contracts import CONTRACTS_DIR, parse_yaml


class CatalogueError(Exception):
    pass


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    description: str
    kind: str
    """``generic`` (any Anthropic- or OpenAI-compatible gateway) or ``ainfera`` (only the seed's gateway)."""


@dataclass(frozen=True)
class Clause:
    id: str
    level: str
    profile: str
    title: str
    statement: str
    source: str
    file: str

    @property
    def must(self) -> bool:
        return self.level == "MUST"


@dataclass(frozen=True)
class Catalogue:
    profiles: dict[str, Profile]
    clauses: dict[str, Clause] = field(default_factory=dict)
    digest: str = ""
    """sha256 over the contract files, so a report says exactly which contract it checked."""

    def by_profile(self, profile: str) -> list[Clause]:
        return [c for c in self.clauses.values() if c.profile == profile]

    @property
    def generic_profiles(self) -> list[str]:
        return [p.id for p in self.profiles.values() if p.kind == "generic"]


def _load_yaml(path: Path) -> object:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}") from None


def load_catalogue(directory: Path | None = None) -> Catalogue:
    base = directory or CONTRACTS_DIR
    schema = json.loads((base / "clause.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    profiles_doc = _load_yaml(base / "profiles.yaml")
    assert isinstance(profiles_doc, dict)
    profiles = {
        p["id"]: Profile(p["id"], p["title"], p["description"], p["kind"]) for p in profiles_doc["profiles"]
    }
    digest = hashlib.sha256()
    clauses: dict[str, Clause] = {}
    for path in sorted((base / "clauses").glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        doc = _load_yaml(path)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
            raise CatalogueError(f"{path.name}: {where}: {errors[0].message}")
        assert isinstance(doc, dict)
        for raw in doc["clauses"]:
            if raw["id"] in clauses:
                raise CatalogueError(
                    f"{path.name}: duplicate clause id {raw['id']} (already in {clauses[raw['id']].file})"
                )
            if raw["profile"] not in profiles:
                raise CatalogueError(f"{path.name}: {raw['id']}: unknown profile {raw['profile']}")
            clauses[raw["id"]] = Clause(
                id=raw["id"],
                level=raw["level"],
                profile=raw["profile"],
                title=raw["title"],
                statement=raw["statement"],
                source=raw["source"],
                file=path.name,
            )
    digest.update((base / "openapi.yaml").read_bytes())
    return Catalogue(profiles=profiles, clauses=clauses, digest=f"sha256:{digest.hexdigest()}")


@functools.cache
def catalogue() -> Catalogue:
    """The installed contract's catalogue (cached)."""
    return load_catalogue()
