"""Fixtures of the conformance suite: the target, an evidence-keeping HTTP client, the database and the log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway_contracts.capture.db import CaptureDB
from gateway_contracts.conformance.client import Exchanges
from gateway_contracts.conformance.examples import PROPERTY_TESTS, Example, Pregenerated, pins_backends
from gateway_contracts.pytest_plugin import EVIDENCE_KEY, plugin_of
from gateway_contracts.target import Target


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    return plugin_of(request.config).resolve_target()


@pytest.fixture()
def evidence(request: pytest.FixtureRequest) -> dict[str, Any]:
    store: dict[str, Any] = {}
    request.node.stash[EVIDENCE_KEY] = store
    return store


@pytest.fixture()
def gw(target: Target, evidence: dict[str, Any]) -> Iterator[Exchanges]:
    client = Exchanges(target, evidence)
    yield client
    client.close()


@pytest.fixture(scope="session")
def db(target: Target) -> CaptureDB:
    assert target.db_url, "the capture profile needs --db-url"
    return CaptureDB(target.db_url)


# -- the property tests' examples, drawn by a process of their own (conformance.examples) ----------------------
_PREGENERATED = pytest.StashKey[Pregenerated]()
_PROPERTY_MODULE = Path(__file__).with_name("test_properties.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The property tests last: their examples are being drawn meanwhile, and the longer the other tests keep the
    gateway busy, the less a property test waits for them."""
    items.sort(key=lambda item: item.path == _PROPERTY_MODULE)  # stable: the order is otherwise unchanged


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start drawing the examples of the property tests this run will run, as soon as it is known which."""
    items = [i for i in session.items if i.path == _PROPERTY_MODULE and i.name in PROPERTY_TESTS]
    plugin = plugin_of(session.config)
    if not items or session.config.option.collectonly:
        if plugin.early_examples is not None:
            plugin.early_examples.close()
        return
    wanted = []
    for item in items:
        clauses = [plugin.catalogue.clauses[c] for m in item.iter_markers("clause") for c in m.args]
        needs = [n for m in item.iter_markers("needs") for n in m.args]
        # skip_reason resolves the target, as the plugin would at the first test.
        if plugin.skip_reason(clauses, needs) is None:
            wanted.append(PROPERTY_TESTS[item.name])
    early = plugin.early_examples  # started by check before the target (examples.likely)
    if wanted:
        pins = pins_backends(plugin.resolve_target())
        if early is not None and early.covers(wanted, plugin.seed, pins):
            pregenerated = early
        else:
            pregenerated = Pregenerated(wanted, plugin.seed, pins)
        session.config.stash[_PREGENERATED] = pregenerated
        session.config.add_cleanup(pregenerated.close)
    if early is not None and session.config.stash.get(_PREGENERATED, None) is not early:
        early.close()


@pytest.fixture()
def examples(request: pytest.FixtureRequest, target: Target) -> list[Example]:
    """This property test's examples (drawn in this process if collection started no process for them)."""
    name = PROPERTY_TESTS[request.node.originalname]
    pregenerated = request.config.stash.get(_PREGENERATED, None)
    if pregenerated is None:
        pregenerated = Pregenerated([], plugin_of(request.config).seed, pins_backends(target))
        request.config.stash[_PREGENERATED] = pregenerated
        request.config.add_cleanup(pregenerated.close)
    return pregenerated.examples(name)
