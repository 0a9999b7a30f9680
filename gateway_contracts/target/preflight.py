"""Before any clause is judged: can the harness reach the target, and does the target accept its set-up?

Three kinds of answer stop a run with one line and the harness's own exit status, never a clause verdict:
- the gateway cannot be reached, or hangs (``EXIT_UNREACHABLE``);
- the database or the log file the user named cannot be read (``EXIT_DATABASE``, ``EXIT_BAD_LOG``);
- the gateway refuses one valid call per configured surface, made with the configured key, model and headers:
  401 or 403 (the key), a 404 naming the model, a redirect, any other 4xx (``EXIT_REFUSED``). A clause judged
  on top of a refused set-up would report the user's configuration as the gateway's violations.

A 5xx is not a refusal of the set-up: it is the gateway failing a valid call, which the clauses then report.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway_contracts.errors import (
    EXIT_BAD_LOG,
    EXIT_DATABASE,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    redact_url,
)
from gateway_contracts.target.model import Target
from gateway_contracts.target.tls import tls

PROBE_TIMEOUT = 10.0
SURFACE_CALLS = {
    "messages": ("/v1/messages", "--messages-model"),
    "chat-completions": ("/v1/chat/completions", "--chat-model"),
}


def preflight(target: Target) -> None:
    reachable(target)
    inputs_readable(target)
    setup_accepted(target)


def reachable(target: Target) -> None:
    wait = min(target.timeout, PROBE_TIMEOUT)
    try:
        httpx.get(target.base_url + "/", timeout=wait, headers=target.headers_for("/"), verify=tls())
    except httpx.InvalidURL as exc:
        raise CliError(f"--target is not a valid URL: {exc}", EXIT_USAGE) from None
    except httpx.TimeoutException:
        raise CliError(
            f"the gateway at {target.base_url} accepted the connection but did not answer within {wait:g}s; "
            "is it hung?",
            EXIT_UNREACHABLE,
        ) from None
    except httpx.HTTPError as exc:
        raise CliError(
            f"cannot reach the gateway at {target.base_url} ({type(exc).__name__}); is it running?",
            EXIT_UNREACHABLE,
        ) from None


def inputs_readable(target: Target) -> None:
    from gateway_contracts.capture.db import CaptureDB, DatabaseError
    from gateway_contracts.logs import LogFileError, check_is_json_lines

    for url in (target.db_url, target.kill_switch_db_url):
        if url is not None and not url.strip():
            raise CliError("the database URL is empty (an unset variable?): give --db-url URL", EXIT_DATABASE)
        if url and url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            # Checked here: SQLite would otherwise create an empty file, or fail deep in its driver thread.
            raise CliError(f"cannot read the database {url}: no such file", EXIT_DATABASE)
        if url:
            try:
                CaptureDB(url, target.capture_queries).ping()
            except DatabaseError as exc:
                raise CliError(f"cannot read the database {redact_url(url)}: {exc}", EXIT_DATABASE) from None
    if target.log_file:
        try:
            check_is_json_lines(target.log_file)
        except LogFileError as exc:
            raise CliError(str(exc), EXIT_BAD_LOG) from None


def setup_accepted(target: Target) -> None:
    """One valid, small call per configured surface; a refusal is the user's set-up to fix, said in one line."""
    for surface, (path, model_flag) in SURFACE_CALLS.items():
        if surface not in target.surfaces:
            continue
        model = target.model_for(path)
        body = {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "Say hi."}]}
        headers = {**target.headers_for(path), **target.auth_headers(), "content-type": "application/json"}
        try:
            r = httpx.post(
                target.base_url + path,
                content=json.dumps(body),
                headers=headers,
                timeout=target.timeout,
                verify=tls(),
            )
        except httpx.TimeoutException:
            raise CliError(
                f"the gateway did not answer a valid call to {path} within {target.timeout:g}s; is it hung, "
                "or does its upstream not answer?",
                EXIT_UNREACHABLE,
            ) from None
        except httpx.HTTPError as exc:
            raise CliError(f"a valid call to {path} failed: {type(exc).__name__}", EXIT_UNREACHABLE) from None
        refusal = _refusal(r, path, model, model_flag, target)
        if refusal:
            raise CliError(f"set-up refused, no clause judged: {refusal}", EXIT_REFUSED)


def _refusal(r: httpx.Response, path: str, model: str, model_flag: str, target: Target) -> str | None:
    status = r.status_code
    said = _error_message(r)
    if target.api_key:
        said = said.replace(
            target.api_key, "***"
        )  # the user's own key, echoed by the gateway: not in CI logs
    if 300 <= status < 400:
        where = r.headers.get("location", "?")
        return f"POST {path} redirects ({status}) to {where[:120]}: point --target at the gateway itself"
    if status in (401, 403):
        how = "--api-key/$GATEWAY_API_KEY" if target.api_key else "a key: --api-key or $GATEWAY_API_KEY"
        return (
            f"POST {path} answered {status} to the configured key ({said}); give the key your gateway accepts "
            f"({how}) and how it is sent (--auth x-api-key|bearer|header:NAME)"
        )
    if status == 404 and (model in r.text or "model" in r.text.lower()):
        return f"POST {path} answered 404 for the model {model!r} ({said}); name a model it serves ({model_flag})"
    if status == 404:
        return (
            f"POST {path} answered 404 ({said}); if the gateway does not serve it, leave "
            f"{'messages' if 'messages' in path else 'chat-completions'} out of --surface (surfaces)"
        )
    if 400 <= status < 500:
        return (
            f"POST {path} answered {status} to a valid call ({said}); give the headers the gateway needs "
            "(--header NAME:VALUE, [headers] in the target file)"
        )
    return None


def _error_message(r: httpx.Response) -> str:
    """The gateway's own words, shortened to one line; secrets are the configured ones, never echoed here."""
    try:
        body = r.json()
    except ValueError:
        text = r.text.strip().splitlines()
        return (text[0][:120] if text else "no body").replace("\r", " ")
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"].splitlines()[0][:120] if error["message"] else "empty message"
        if isinstance(error, str):
            return error[:120]
    return json.dumps(body)[:120]
