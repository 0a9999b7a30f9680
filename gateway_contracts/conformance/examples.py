"""The property tests' examples, generated in a process of their own while the rest of the suite runs.

Generating an example (hypothesis drawing a request from the contract's schemas) costs the harness far more CPU
than sending it: most of the property tests' time, all of it in the harness's process while the gateway waits.
So the examples are drawn by hypothesis exactly as a ``@given`` test would draw them (the same strategies, the
same settings, the same ``assume``, seeded with the run's ``--hypothesis-seed``), but ahead of the tests, by
``python -m gateway_contracts.conformance.examples`` started when collection ends. It runs on the machine's other
core while the other tests and the gateway take turns on one; the property tests then send what it drew, in
order, and stop at the first example the gateway gets wrong. Same seed, same code, same examples: a failure is
reproduced by the report's check command. Should the process fail or not answer in time, the examples are drawn in
the test's own process instead: as many, from the same seed, though not always the same ones (hypothesis mixes in
constants of the project's own modules loaded where it draws).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import openapi_document
from gateway_contracts.conformance.requests import AINFERA
from gateway_contracts.conformance.schemas import validator
from gateway_contracts.target import Target

BACKEND: str = AINFERA["backend_header"]
SENT_HEADERS = frozenset({"traceparent", "anthropic-version", BACKEND})
"""The generated headers a property test sends (the backend pin only to a target that offers pinning)."""
MAX_EXAMPLES = 30
WAIT_SECONDS = 300.0
"""How long a test waits for the generating process before drawing its examples itself."""


@dataclass(frozen=True)
class Spec:
    path: str
    negative: bool
    component: str
    surface: str
    """The target's surface the examples are sent to (a target without it runs no such property test)."""


SPECS = {
    "valid-messages": Spec("/v1/messages", False, "MessagesRequest", "messages"),
    "invalid-messages": Spec("/v1/messages", True, "MessagesRequest", "messages"),
    "valid-chat": Spec("/v1/chat/completions", False, "ChatCompletionRequest", "chat-completions"),
    "invalid-chat": Spec("/v1/chat/completions", True, "ChatCompletionRequest", "chat-completions"),
}

PROPERTY_TESTS = {
    "test_valid_messages_requests": "valid-messages",
    "test_invalid_messages_requests": "invalid-messages",
    "test_valid_chat_requests": "valid-chat",
    "test_invalid_chat_requests": "invalid-chat",
}
"""Each property test (``test_properties``) and the examples it sends."""


@dataclass(frozen=True)
class Example:
    body: Any
    """The body: a JSON value, or ``bytes`` (a negative example that is not JSON at all)."""
    headers: dict[str, str]
    slot: int
    """A small integer drawn with the body: which of the target's models a valid Messages example names."""

    def to_json(self) -> dict[str, Any]:
        if isinstance(self.body, bytes):
            return {"raw": base64.b64encode(self.body).decode(), "headers": self.headers, "slot": self.slot}
        return {"body": self.body, "headers": self.headers, "slot": self.slot}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Example:
        body = base64.b64decode(data["raw"]) if "raw" in data else data["body"]
        return cls(body, dict(data["headers"]), int(data["slot"]))


def pins_backends(target: Target) -> bool:
    """Whether the target offers backend pinning: an unknown backend pin is then a request it must refuse."""
    return "backend-selection" in target.features


def body_is_invalid(component: str, body: Any) -> bool:
    """Negative cases may be invalid only in a header or the media type; these tests are about bodies."""
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return True
    return not validator(component).is_valid(body)


def rejectable(component: str, body: Any, headers: dict[str, str], pins_backends: bool) -> bool:
    """Whether the case breaks something a gateway must reject: the body, or (where the target offers backend
    pinning) the backend pin. A malformed ``traceparent`` alone is not: W3C trace context says to ignore it and
    start a new trace."""
    backend = headers.get(BACKEND) if pins_backends else None
    backends = openapi_document()["components"]["parameters"]["Backend"]["schema"]["enum"]
    return body_is_invalid(component, body) or (backend is not None and backend not in backends)


def draw(name: str, seed: int, pins_backends: bool) -> list[Example]:
    """The examples of one property test, as its ``@given`` would draw them from ``seed``."""
    # Imported here: the generating process needs them, a run without property tests never does.
    from hypothesis import HealthCheck, Phase, assume, given, settings
    from hypothesis import seed as seeded
    from hypothesis import strategies as st
    from schemathesis.generation import GenerationMode

    from gateway_contracts.conformance.generation import cases

    spec = SPECS[name]
    mode = GenerationMode.NEGATIVE if spec.negative else GenerationMode.POSITIVE
    drawn: list[Example] = []

    @seeded(seed)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking and no example database: nothing fails here, and nothing is written anywhere.
        phases=[Phase.explicit, Phase.generate, Phase.target],
        database=None,
        derandomize=False,
    )
    @given(case=cases(spec.path, mode), slot=st.integers(0, 3))
    def record(case: Any, slot: int) -> None:
        headers = {k.lower(): str(v) for k, v in (case.headers or {}).items() if k.lower() in SENT_HEADERS}
        if spec.negative:
            assume(rejectable(spec.component, case.body, headers, pins_backends))
        drawn.append(Example(case.body, headers, slot))

    record()
    if not drawn:
        raise RuntimeError(f"hypothesis drew no example for {name}")
    return drawn


def as_int(seed: int | str | None) -> int:
    """The run's ``--hypothesis-seed`` as the integer the examples are drawn from (a random one without)."""
    if seed is None:
        return random.SystemRandom().getrandbits(32)
    if isinstance(seed, int):
        return seed
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")


def likely(target: Target) -> list[str]:
    """The examples a whole run of ``target`` will most likely need, before collection says which it does:
    ``check`` starts drawing them before it starts the target, which is then seconds earlier than collection."""
    return [name for name, spec in SPECS.items() if spec.surface in target.surfaces]


class Pregenerated:
    """The examples of the named property tests, drawn by a process started now."""

    def __init__(self, names: list[str], seed: int | str | None, pins_backends: bool) -> None:
        self.names = frozenset(names)
        self.seed = as_int(seed)
        self.pins_backends = pins_backends
        self._examples: dict[str, list[Example]] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        if not names:
            return
        # The generating process imports this very package: the same code as the tests, wherever it is installed.
        package_root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        }
        # hypothesis caches the constants it finds in local modules: in the temporary directory, not the user's tree.
        env.setdefault(
            "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "gateway-contracts-hypothesis")
        )
        argv = [sys.executable, "-m", __name__, "--seed", str(self.seed), *names]
        if pins_backends:
            argv.append("--pins-backends")
        self._proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
        )

    def covers(self, names: list[str], seed: int | str | None, pins_backends: bool) -> bool:
        """Whether this process draws what a run with these property tests, seed and target needs."""
        return (
            (self._proc is not None or self._examples is not None)  # drawing, or drawn; not closed
            and self.names >= set(names)
            and (self.seed, self.pins_backends) == (as_int(seed), pins_backends)
        )

    def examples(self, name: str) -> list[Example]:
        if self._examples is None:
            self._examples = self._collect()
        found = self._examples.get(name)
        return found if found is not None else draw(name, self.seed, self.pins_backends)

    def _collect(self) -> dict[str, list[Example]]:
        proc, self._proc = self._proc, None
        if proc is None:
            return {}
        try:
            out, err = proc.communicate(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            warnings.warn("the examples' process did not answer in time: drawing them here", stacklevel=2)
            return {}
        if proc.returncode != 0:
            last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            warnings.warn(f"the examples' process failed ({last}): drawing them here", stacklevel=2)
            return {}
        data = json.loads(out)
        return {name: [Example.from_json(e) for e in examples] for name, examples in data.items()}

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.communicate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--pins-backends", action="store_true")
    parser.add_argument("names", nargs="+", choices=sorted(SPECS))
    args = parser.parse_args(argv)
    drawn = {name: [e.to_json() for e in draw(name, args.seed, args.pins_backends)] for name in args.names}
    sys.stdout.write(json.dumps(drawn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
