"""An HTTP client for conformance tests that keeps evidence of every exchange for the report.

Each test gets its own ``Exchanges``. Every call carries what the target file says the gateway needs (its key in
its auth style, its global and per-route headers), and the bodies name the target's models. Requests and
responses are recorded (bodies truncated) so that a failing clause carries the request, the response or stream
transcript, and a curl command that reproduces it. The configured secrets never reach the record: they are
replaced before anything is kept.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import httpx

from gateway_contracts.conformance import requests
from gateway_contracts.target import Target
from gateway_contracts.target.tls import tls

MAX_EVIDENCE = 4000
REDACTED_KEY = "[REDACTED:configured-secret]"


class GatewayTimeout(AssertionError):
    pass


def http_client(target: Target, **kwargs: Any) -> httpx.Client:
    """A client of the target's base URL and timeout, with the run's TLS context."""
    return httpx.Client(base_url=target.base_url, timeout=target.timeout, verify=tls(), **kwargs)


class Exchanges:
    def __init__(self, target: Target, evidence: dict[str, Any]) -> None:
        self.target = target
        self.evidence = evidence
        self.client = http_client(target)
        self._secrets = [s for s in (target.api_key, target.internal_key) if s]

    @property
    def api_key(self) -> str:
        return self.target.api_key

    def auth_headers(self, key: str | None = None) -> dict[str, str]:
        """The headers that authenticate the harness to the target (its key, in the target's auth style)."""
        return self.target.auth_headers(key)

    def close(self) -> None:
        self.client.close()

    # -- bodies naming the target's models ----------------------------------------------------------------
    def message(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("model", self.target.messages_model)
        return requests.message(**kwargs)

    def chat(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("model", self.target.chat_model)
        return requests.chat(**kwargs)

    def request_id(self, response: httpx.Response) -> str:
        """The call's request id, where the target says it is; a test that needs it declares ``request-id``."""
        rid = self.target.request_id(response)
        assert rid, f"the response has no {self.target.request_id_header} header"
        return rid

    # -- calls ----------------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        key: str | None = None,
    ) -> httpx.Response:
        sent = self.target.headers_for(path)
        if auth:
            sent.update(self.auth_headers(key))
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

    def _hide(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED_KEY)
        return text

    def _remember(
        self, method: str, path: str, headers: dict[str, str], content: bytes | None, response: httpx.Response
    ) -> None:
        body = self._hide((content or b"")[:MAX_EVIDENCE].decode("utf-8", errors="replace"))
        shown = {k: self._hide(v) for k, v in headers.items()}
        exchanges = self.evidence.setdefault("exchanges", [])
        exchanges.append(
            {
                "request": {"method": method, "path": self._hide(path), "headers": shown, "body": body},
                "response": {
                    "status": response.status_code,
                    "headers": {k: self._hide(v) for k, v in response.headers.items()},
                    "body": self._hide(response.text[:MAX_EVIDENCE]),
                },
                "reproduce": curl(self.target.base_url, method, self._hide(path), shown, body.encode()),
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
