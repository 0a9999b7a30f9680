"""Fixtures: the reference gateway on loopback (SQLite, in-process scripted upstream); see tests.support.gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway import start_gateway
from tests.support.servers import ServerThread


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    server = start_gateway(tmp_path_factory.mktemp("gw"))
    yield server
    server.stop()
