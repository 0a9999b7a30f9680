"""Dependencies run one way: harness → contract ← reference gateway.

Every module of each package is read with ``ast`` (statically, so an import inside a function or under
``TYPE_CHECKING`` counts as much as one at the top) and every import it makes is resolved to a top-level package:

- ``gateway_contracts`` (the harness) must not import ``reference_server``: it checks a gateway by URL, and runs the
  reference gateway only as a command (``[target] start``);
- ``reference_server`` must not import ``gateway_contracts``: it shells out to ``gateway-contracts`` and reads the
  files it writes;
- ``contracts`` (the contract's data and the small core both share) imports neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "gateway_contracts": {"reference_server"},
    "reference_server": {"gateway_contracts"},
    "contracts": {"gateway_contracts", "reference_server"},
}


def imported_packages(source: str, module: str) -> set[tuple[str, int]]:
    """The top-level packages ``source`` (the module ``module``, dotted) imports, each with the line number."""
    found: set[tuple[str, int]] = set()
    package = module.split(".")[:-1]  # for pkg/__init__.py (module "pkg.__init__") too: its package is pkg
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's own package (never above its top)
                top = package[0] if package else (node.module or "").split(".")[0]
            else:
                top = (node.module or "").split(".")[0]
            found.add((top, node.lineno))
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add((arg.value.split(".")[0], node.lineno))
    return found


def _dynamic_import(node: ast.Call) -> bool:
    """``importlib.import_module("x")`` and ``__import__("x")`` with a literal name count as imports too."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__") and bool(node.args)


def violations(package: str, root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted((root / package).rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for top, line in sorted(imported_packages(path.read_text(encoding="utf-8"), module)):
            if top in FORBIDDEN[package]:
                out.append(f"{path.relative_to(root)}:{line} imports {top}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_the_side_it_must_not(package: str) -> None:
    assert list((ROOT / package).rglob("*.py")), f"no modules found under {package}/"
    assert violations(package) == []


BAD_MODULES = {
    "top-level": "from reference_server.mutants import MUTANT_ENV\n",
    "plain": "import reference_server.app\n",
    "in a function": "def f():\n    from reference_server.db import ops\n    return ops\n",
    "under TYPE_CHECKING": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import reference_server\n",
    "importlib": "import importlib\nmod = importlib.import_module('reference_server.cli')\n",
}


@pytest.mark.parametrize("source", BAD_MODULES.values(), ids=BAD_MODULES.keys())
def test_the_check_catches_a_harness_module_that_imports_the_reference_gateway(
    source: str, tmp_path: Path
) -> None:
    """The check can fail: a synthetic harness module importing the reference gateway, in each way, is found."""
    (tmp_path / "gateway_contracts" / "sub").mkdir(parents=True)
    (tmp_path / "gateway_contracts" / "__init__.py").write_text("")
    (tmp_path / "gateway_contracts" / "sub" / "bad.py").write_text(source)
    found = violations("gateway_contracts", tmp_path)
    assert len(found) == 1 and found[0].startswith("gateway_contracts/sub/bad.py:"), found
    assert found[0].endswith("imports reference_server")


def test_a_relative_import_resolves_to_its_own_package(tmp_path: Path) -> None:
    """``from . import x`` inside reference_server is reference_server's own: not a violation, and not missed."""
    (tmp_path / "reference_server").mkdir()
    (tmp_path / "reference_server" / "a.py").write_text("from . import b\nfrom .b import c\n")
    assert violations("reference_server", tmp_path) == []
    assert imported_packages("from . import b\n", "reference_server.a") == {("reference_server", 1)}
