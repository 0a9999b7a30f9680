"""An HTTP client for conformance tests that keeps evidence of every exchange for the report.

Each test gets its own ``Exchanges``: requests and responses are recorded (bodies truncated) so that a failing
clause carries the request, the response or stream transcript, and a curl command that reproduces it.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import httpx

from gateway_contracts.target import Target

DEFAULT_API_KEY = "gateway-contracts-check"
MAX_EVIDENCE = 4000


class GatewayTimeout(AssertionError):
    pass


class Exchanges:
    def __init__(self, target: Target, evidence: dict[str, Any], api_key: str = DEFAULT_API_KEY) -> None:
        self.target = target
        self.evidence = evidence
        self.api_key = api_key
        self.client = httpx.Client(base_url=target.base_url, timeout=target.timeout)

    def auth_headers(self) -> dict[str, str]:
        """The headers that authenticate the harness to the target (its key, in the target's auth style)."""
        return {"x-api-key": self.api_key}

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        sent = self.auth_headers() if auth else {}
        if json_body is not None:
            sent["content-type"] = "application/json"
            content = json.dumps(json_body).encode()
        sent.update(headers or {})
        try:
            response = self.client.request(method, path, content=content, headers=sent)
        except httpx.TimeoutException:
            raise GatewayTimeout(
                f"{method} {path}: the gateway did not answer within {self.target.timeout:g}s"
            ) from None
        self._remember(method, path, sent, content, response)
        return response

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("POST", path, json_body=body, headers=headers)

    def get(self, path: str, headers: dict[str, str] | None = None, auth: bool = True) -> httpx.Response:
        return self.request("GET", path, headers=headers, auth=auth)

    def _remember(
        self, method: str, path: str, headers: dict[str, str], content: bytes | None, response: httpx.Response
    ) -> None:
        body = (content or b"")[:MAX_EVIDENCE].decode("utf-8", errors="replace")
        exchanges = self.evidence.setdefault("exchanges", [])
        exchanges.append(
            {
                "request": {"method": method, "path": path, "headers": headers, "body": body},
                "response": {
                    "status": response.status_code,
                    "headers": dict(response.headers),
                    "body": response.text[:MAX_EVIDENCE],
                },
                "reproduce": curl(self.target.base_url, method, path, headers, content),
            }
        )
        del exchanges[:-5]  # the last few exchanges are what explains a failure


def curl(base_url: str, method: str, path: str, headers: dict[str, str], content: bytes | None) -> str:
    parts = ["curl", "-sS", "-N", "-X", method, f"{base_url}{path}"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    if content:
        text = content.decode("utf-8", errors="replace")
        if len(text) > 2000:
            text = text[:2000] + "…"
        parts += ["--data-binary", text]
    return shlex.join(parts)
