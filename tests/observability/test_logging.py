"""The gateway's JSON log formatter and its installation (BRIEF §5, §6): one scrubbed object per line, request
and trace ids from the request scope, % arguments, extras, exceptions and tracebacks scrubbed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reference_server.observability.context import RequestScope, current_scope, request_scope
from reference_server.observability.logging_setup import (
    JsonLogFormatter,
    install_json_logging,
    uninstall_json_logging,
)

ANTHROPIC = "sk-ant-api03-" + "R2d2C3po" * 11 + "AA"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY2z4A"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing through the formatter to a buffer (the root logger is left alone)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger(f"test.observability.{id(buffer)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    raw = buffer.getvalue().splitlines()
    return [json.loads(line) for line in raw]


def test_one_json_object_per_line_with_required_fields(capture: tuple[logging.Logger, io.StringIO]) -> None:
    """FORMAT: a multi-line message is still one line of JSON with timestamp, level, logger, message, request_id
    and trace_id (null outside a request)."""
    logger, buffer = capture
    logger.warning("first line\nsecond line")
    [rec] = lines(buffer)
    assert list(rec)[:6] == ["timestamp", "level", "logger", "message", "request_id", "trace_id"]
    assert rec["message"] == "first line\nsecond line" and rec["level"] == "WARNING"
    assert rec["request_id"] is None and rec["trace_id"] is None
    assert rec["timestamp"].endswith("Z")


def test_ids_from_the_request_scope(capture: tuple[logging.Logger, io.StringIO]) -> None:
    """TRACE: inside a request scope every line carries its request id and trace id; the scope ends with it."""
    logger, buffer = capture
    with request_scope(
        RequestScope("req_0123456789abcdef01234567", "4bf92f3577b34da6a3ce929d0e0e4736", "00f0")
    ):
        logger.info("inside")
    logger.info("outside")
    inside, outside = lines(buffer)
    assert (inside["request_id"], inside["trace_id"]) == (
        "req_0123456789abcdef01234567",
        "4bf92f3577b34da6a3ce929d0e0e4736",
    )
    assert outside["request_id"] is None and current_scope() is None


def test_percent_args_scrubbed(capture: tuple[logging.Logger, io.StringIO]) -> None:
    """MESSAGE: % arguments are scrubbed before formatting (a secret in an argument, a dict argument with a
    sensitive key, bytes, an exception argument), numbers still format with %d, and a mapping argument
    loses sensitive keys."""
    logger, buffer = capture
    logger.info("key %s for %d calls, cfg %s, raw %s", ANTHROPIC, 3, {"password": "pw-1"}, GITHUB.encode())
    logger.error("failed: %s", ValueError(f"token {GITHUB}"))
    logger.info("user %(user)s with %(api_key)s", {"user": "bob", "api_key": "plain-value-9"})
    text = buffer.getvalue()
    for secret in (ANTHROPIC, GITHUB, "pw-1", "plain-value-9"):
        assert secret not in text
    first, second, third = lines(buffer)
    assert "for 3 calls" in first["message"] and "[REDACTED:anthropic]" in first["message"]
    assert second["message"].startswith("failed: token [REDACTED:github]")
    assert third["message"] == "user bob with [REDACTED:credential]"
    # A template that does not match its arguments still gives a line (stdlib formatting would raise).
    broken = logging.LogRecord("t", logging.INFO, __file__, 1, "broken %s %s", (ANTHROPIC,), None)
    rec = json.loads(JsonLogFormatter().format(broken))
    assert rec["message"].startswith("broken %s %s") and ANTHROPIC not in rec["message"]


def test_extras_scrubbed_structurally(capture: tuple[logging.Logger, io.StringIO]) -> None:
    """EXTRAS: extra fields go through the key and shape rules at any depth; innocent extras are kept as they
    are; an extra named like a base field does not overwrite it."""
    logger, buffer = capture
    logger.info(
        "call",
        extra={
            "headers": {"Authorization": f"Bearer {ANTHROPIC}", "x-ainfera-backend": "openai"},
            "body": {
                "model": "ainfera-inference",
                "max_tokens": 64,
                "messages": [{"role": "user", "content": "hi"}],
            },
            "usage": {"input_tokens": 3, "output_tokens": 9},
            "level_hint": 1,
            "timestamp": "client-sent",
        },
    )
    [rec] = lines(buffer)
    assert ANTHROPIC not in json.dumps(rec)
    assert rec["headers"] == {"Authorization": "[REDACTED:credential]", "x-ainfera-backend": "openai"}
    assert rec["body"] == {
        "model": "ainfera-inference",
        "max_tokens": 64,
        "messages": "[REDACTED:prompt-content]",
    }
    assert rec["usage"] == {"input_tokens": 3, "output_tokens": 9}
    assert rec["extra.timestamp"] == "client-sent" and rec["timestamp"].endswith("Z")


def test_exceptions_and_tracebacks_scrubbed(capture: tuple[logging.Logger, io.StringIO]) -> None:
    """EXCEPTION: log.exception renders type, message and traceback, all scrubbed (arguments by key and shape,
    the chained cause too), with no frame locals."""
    logger, buffer = capture

    def connect(secret_arg: str) -> None:
        hidden_local = "hidden-" + "Qq1" * 8  # noqa: F841 - rendered only if frame locals were
        raise ConnectionError({"api_key": "plain-value-5", "url": f"https://svc:{secret_arg}@db.internal/x"})

    password = "Pa55word-" + "Xy"  # built, so the traceback's source lines do not show it as a literal
    try:
        try:
            connect(password)
        except ConnectionError as exc:
            raise RuntimeError(f"gave up with {ANTHROPIC}") from exc
    except RuntimeError:
        logger.exception("upstream failed")
    [rec] = lines(buffer)
    text = json.dumps(rec)
    for secret in ("plain-value-5", "Pa55word-Xy", ANTHROPIC, "hidden_local", "Qq1Qq1"):
        assert secret not in text
    assert rec["exception"]["type"] == "RuntimeError"
    assert "ConnectionError" in rec["exception"]["traceback"]
    assert "The above exception was the direct cause" in rec["exception"]["traceback"]


def test_stack_info_scrubbed(capture: tuple[logging.Logger, io.StringIO]) -> None:
    """FORMAT: stack_info=True adds the (scrubbed) stack as its own field, still on one line."""
    logger, buffer = capture
    logger.info("with stack %s", "x", stack_info=True)
    [rec] = lines(buffer)
    assert "stack" in rec and "Stack (most recent call last)" in rec["stack"]


def test_install_routes_every_logger_to_json(tmp_path: Path) -> None:
    """INSTALL: after install_json_logging, the root logger and library loggers (aiohttp access, asyncio,
    warnings) write JSON lines to the stream and append them to the log file."""
    import warnings

    stream = io.StringIO()
    log_file = tmp_path / "logs" / "gateway.jsonl"
    log_file.parent.mkdir()
    log_file.write_text('{"previous":"run"}\n')
    saved = list(logging.getLogger().handlers), logging.getLogger().level
    try:
        install_json_logging(log_file=log_file, stream=stream)
        logging.getLogger("aiohttp.access").info("GET / 200")
        logging.getLogger("asyncio").error("loop trouble %s", ANTHROPIC)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
    finally:
        uninstall_json_logging()
        root = logging.getLogger()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    from_stream = [json.loads(line) for line in stream.getvalue().splitlines()]
    from_file = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert from_file[0] == {"previous": "run"}  # appended, not truncated
    assert from_file[1:] == from_stream
    assert [r["logger"] for r in from_stream] == ["aiohttp.access", "asyncio", "py.warnings"]
    assert ANTHROPIC not in stream.getvalue()
