"""JSON logging for the gateway: one scrubbed JSON object per line, installed before anything else logs.

Every line carries ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``request_id`` and
``trace_id`` (null outside a request; inside one they come from the log call's ``extra`` or else from the
request's context), then the record's extras, then ``exception`` when there is one.

Nothing reaches the line unscrubbed (``contracts.scrub``): extras go through the key and shape rules
structurally, the message is formatted from scrubbed ``%`` arguments and scrubbed again as text, exceptions are
rendered from scrubbed arguments, and tracebacks (never with frame locals) are scrubbed as text.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from contracts.scrub import Scrubber, default_scrubber
from reference_server.mutants import mutated
from reference_server.observability.context import current_scope

# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_BASE_FIELDS = ("timestamp", "level", "logger", "message", "request_id", "trace_id")
_INSTALLED_MARK = "_gateway_json_handler"
PRESCRUBBED = "_gateway_prescrubbed"
"""``extra`` flag: this record's message, extras and ids were already scrubbed by the code that logged it (the
access log, on every request), so the formatter writes them as they are instead of scrubbing them again."""
_FORMATTED = "_gateway_json_line"
"""Where a record keeps its formatted line, so a second handler (``--log-file``) does not encode it again."""


class JsonLogFormatter(logging.Formatter):
    def __init__(self, scrubber: Scrubber | None = None) -> None:
        super().__init__()
        self.scrubber = scrubber or default_scrubber()
        self.level_key = "severity" if mutated("log-level-as-severity") else "level"

    def format(self, record: logging.LogRecord) -> str:
        formatted = record.__dict__.get(_FORMATTED)
        if formatted is not None and formatted[0] is self:
            return str(formatted[1])
        try:
            line = self._format(record)
            record.__dict__[_FORMATTED] = (self, line)
            return line
        except Exception as exc:  # a log line must never be lost to a formatting bug, nor leak what failed
            return json.dumps(
                {
                    "timestamp": _timestamp(record.created),
                    "level": record.levelname,
                    "logger": record.name,
                    "message": "[log record could not be formatted]",
                    "request_id": None,
                    "trace_id": None,
                    "format_error": type(exc).__name__,
                }
            )

    def _format(self, record: logging.LogRecord) -> str:
        scope = current_scope()
        extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and k != _FORMATTED}
        prescrubbed = extra.pop(PRESCRUBBED, None) is True and not record.args
        request_id = extra.pop("request_id", None) or (scope.request_id if scope else None)
        trace_id = extra.pop("trace_id", None) or (scope.trace_id if scope else None)
        scrub = _as_is if prescrubbed else self.scrubber.scrub_value
        out: dict[str, Any] = {
            "timestamp": _timestamp(record.created),
            self.level_key: record.levelname,
            "logger": record.name,
            "message": str(record.msg) if prescrubbed else self.message(record),
            "request_id": scrub(request_id),
            "trace_id": scrub(trace_id),
        }
        if extra:
            scrubbed = scrub(extra)
            for key, value in scrubbed.items():
                out[f"extra.{key}" if key in out else key] = value
        if record.exc_info and record.exc_info[1] is not None:
            exc_type, exc, tb = record.exc_info
            out["exception"] = {
                "type": type(exc).__qualname__,
                "message": self.scrubber.exception_message(exc),
                "traceback": self.scrubber.traceback_text(exc_type, exc, tb),
            }
        if record.stack_info:
            out["stack"] = self.scrubber.scrub_text(record.stack_info)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))

    def message(self, record: logging.LogRecord) -> str:
        """``msg % args`` from scrubbed arguments, then scrubbed again as a whole (a secret can also be split
        across the template and an argument)."""
        text = str(record.msg)
        if record.args:
            args = self._format_args(record.args)
            try:
                text = text % args
            except (TypeError, ValueError, KeyError):
                text = f"{text} {args!r}"
        return self.scrubber.scrub_text(text)

    def _format_args(self, args: tuple[Any, ...] | Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        if isinstance(args, Mapping):
            return {str(k): self._format_arg(k, v) for k, v in args.items()}
        return tuple(self._format_arg(None, a) for a in args)

    def _format_arg(self, key: object, value: Any) -> Any:
        """A scrubbed argument that still formats as the original would with ``%s``/``%d``/``%r``."""
        if isinstance(key, str) and value is not None and (family := self.scrubber.key_family(key)):
            return self.scrubber.rules.marker_for(family)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, BaseException):
            return self.scrubber.exception_message(value, with_type=False)
        if isinstance(value, (bytes, bytearray)):
            return self.scrubber.scrub_text(bytes(value).decode("utf-8", "replace")).encode()
        return self.scrubber.scrub_value(value)


def _as_is(value: Any) -> Any:
    return value


def _timestamp(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def install_json_logging(
    *, level: int | str = logging.INFO, log_file: Path | None = None, stream: IO[str] | None = None
) -> list[logging.Handler]:
    """Route every logger (aiohttp's access and server logs, asyncio, alembic, warnings) to JSON lines on
    ``stream`` (stderr by default) and, when given, appended to ``log_file``.

    Replaces whatever handlers the root logger had, so nothing can still write a plain-text line. Call it
    first thing: a line logged before it would not be JSON. Returns the installed handlers.
    """
    formatter = JsonLogFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="a", encoding="utf-8"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, _INSTALLED_MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    _skip_thread_and_process_lookups()
    # Libraries that configured handlers of their own would still write plain text: send them to the root.
    for name in (
        "aiohttp",
        "aiohttp.access",
        "aiohttp.server",
        "aiohttp.web",
        "asyncio",
        "alembic",
        "sqlalchemy",
    ):
        library_logger = logging.getLogger(name)
        library_logger.handlers.clear()
        library_logger.propagate = True
    logging.getLogger("aiohttp.access").setLevel(logging.INFO)
    if log_file is not None and mutated("access-log-plain-handler"):
        logging.getLogger("aiohttp.access").addHandler(
            logging.FileHandler(log_file, mode="a", encoding="utf-8")
        )
    if mutated("router-logger-quiet"):
        logging.getLogger("reference_server.router").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin, every start
    logging.captureWarnings(True)
    return handlers


# The logging module's per-record lookup switches, as they were before install_json_logging turned them off.
_SAVED_LOOKUPS: dict[str, Any] = {}
_LOOKUPS = ("logThreads", "logProcesses", "logMultiprocessing")


def _skip_thread_and_process_lookups() -> None:
    """A JSON line carries no thread or process, so no record needs them looked up (switches the logging
    documentation lists under "Optimization"). The caller lookup stays: ``stack_info=True`` needs it."""
    for name in _LOOKUPS:
        _SAVED_LOOKUPS.setdefault(name, getattr(logging, name))
        setattr(logging, name, False)


def uninstall_json_logging() -> None:
    """Remove the handlers :func:`install_json_logging` added (for tests that install it in-process)."""
    for name, value in _SAVED_LOOKUPS.items():
        setattr(logging, name, value)
    _SAVED_LOOKUPS.clear()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _INSTALLED_MARK, False):
            root.removeHandler(handler)
            handler.close()
    logging.captureWarnings(False)
