"""The clause catalogue: loads, validates against its own schema, refuses duplicates and unknown profiles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts import CONTRACTS_DIR
from contracts.clauses import CatalogueError, load_catalogue


def copy_contracts(tmp_path: Path) -> Path:
    target = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def test_installed_catalogue_is_valid() -> None:
    """Every clause file validates; IDs are unique; every profile is declared; the digest is stable."""
    cat = load_catalogue()
    assert len(cat.clauses) >= 50
    assert set(c.profile for c in cat.clauses.values()) <= set(cat.profiles)
    assert cat.digest == load_catalogue().digest
    assert all(c.level in ("MUST", "SHOULD") for c in cat.clauses.values())


def test_every_brief_section_has_clauses() -> None:
    """BRIEF §1–§6 are each covered by at least one clause."""
    sources = " ".join(c.source for c in load_catalogue().clauses.values())
    for section in ("§1", "§2", "§3", "§4", "§5", "§6"):
        assert section in sources


def test_duplicate_id_is_an_error(tmp_path: Path) -> None:
    base = copy_contracts(tmp_path)
    text = (base / "clauses" / "wire.yaml").read_text()
    (base / "clauses" / "zz-dup.yaml").write_text(text.replace("area:", "area: copy of", 1))
    with pytest.raises(CatalogueError, match="duplicate clause id WIRE-001"):
        load_catalogue(base)


def test_schema_violation_is_an_error(tmp_path: Path) -> None:
    base = copy_contracts(tmp_path)
    path = base / "clauses" / "wire.yaml"
    path.write_text(path.read_text().replace("level: MUST", "level: MAYBE", 1))
    with pytest.raises(CatalogueError, match=r"wire\.yaml"):
        load_catalogue(base)


def test_bad_id_shape_is_an_error(tmp_path: Path) -> None:
    base = copy_contracts(tmp_path)
    path = base / "clauses" / "wire.yaml"
    path.write_text(path.read_text().replace("id: WIRE-001", "id: wire one", 1))
    with pytest.raises(CatalogueError):
        load_catalogue(base)
