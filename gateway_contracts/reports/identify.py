"""What the gateway says it is: name and version, for the report's target.

Asked, in order, of the agent card (``name``, ``version``) and ``/healthz`` (``version``); the first answer wins
and the report names the request that gave it. A gateway that says nothing is reported as unnamed, never
guessed at: the report states only what the target itself claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PROBES = ("/.well-known/agent-card.json", "/healthz")
PROBE_TIMEOUT = 5.0
MAX_FIELD = 200


@dataclass(frozen=True)
class Identity:
    name: str | None = None
    version: str | None = None
    identified_by: str | None = None


def _text(value: Any) -> str | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()[:MAX_FIELD]
    return None


def identify(base_url: str, timeout: float = PROBE_TIMEOUT) -> Identity:
    try:
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            for path in PROBES:
                try:
                    r = client.get(path)
                    doc = r.json() if r.status_code == 200 else None
                except (httpx.HTTPError, ValueError):
                    continue
                if not isinstance(doc, dict):
                    continue
                name, version = _text(doc.get("name")), _text(doc.get("version"))
                if name or version:
                    return Identity(name, version, f"GET {path}")
    except (httpx.HTTPError, httpx.InvalidURL):
        pass  # a target that cannot say is reported unnamed; identifying it never fails a run
    return Identity()
