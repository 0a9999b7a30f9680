"""The test tree's own layout: test modules and conftest.py files are not libraries.

What tests share lives in support modules (``tests/support/``, a directory's ``support.py`` and the like); a
conftest.py holds fixtures and hooks, which pytest hands to tests by name. An import of a conftest or of a
``test_*`` module runs that module a second time under another name (its module-level state doubles) and ties
one test file to another's internals, so none is allowed anywhere under ``tests/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _is_test_module(name: str) -> bool:
    return name == "conftest" or name.startswith("test_")


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    """``file:line: module`` for each import of a conftest or a ``test_*`` module in ``source`` (at any depth:
    inside functions too, and relative imports)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            # ``from tests.gateway import conftest`` imports the conftest as a name, not as the module path.
            modules = [base] + [f"{base}.{alias.name}".lstrip(".") for alias in node.names]
        else:
            continue
        for module in modules:
            if any(_is_test_module(part) for part in module.split(".") if part):
                found.append(f"{filename}:{node.lineno}: {module}")
                break
    return found


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from tests.gateway.conftest import CLIENT_KEY\n", True),
        ("import tests.hostile.test_corpus as corpus\n", True),
        ("from .conftest import fixture_helper\n", True),
        ("from tests.gateway import conftest\n", True),
        ("def hook():\n    from tests.hostile.test_corpus import SUMMARIES\n", True),
        ("from . import test_store\n", True),
        ("from tests.support.gateway import CLIENT_KEY, start_gateway\n", False),
        ("from tests.upstream.scenarios import replay\nimport pytest\n", False),
        ("from gateway_contracts.results import TestRecord\n", False),
        ("from tests.capture.support import TRACE_ID\n", False),
    ],
)
def test_the_check_tells_a_test_import_from_a_support_import(source: str, bad: bool) -> None:
    """The check itself: it catches each way of importing a conftest or a test module, and only those."""
    assert bool(forbidden_imports(source)) is bad


def test_no_file_under_tests_imports_a_conftest_or_a_test_module() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 50  # the walk really found the tree
    found = [hit for path in files for hit in forbidden_imports(path.read_text(encoding="utf-8"), str(path))]
    assert not found, "move what is shared into a support module:\n" + "\n".join(found)
