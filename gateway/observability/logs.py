"""Logging of the gateway's processes: one set-up for every command, text for people or JSON for a log pipeline.

Each JSON line is one object: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, ``service`` and, within
a `correlation_scope`, ``correlation_id`` (the id the gateway puts on the events and dead letters of a run, so a log
line leads to them and back). The gateway never logs record contents (names, document numbers, dates of birth,
raw bytes); positions, rule ids, stages and counts say what happened without them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from gateway.observability.settings import LogFormat, LogLevel

__all__ = ["JsonFormatter", "configure_logging", "correlation_scope"]

# A context variable rather than an attribute threaded through every call: the loops log from deep inside
# libraries' callbacks. It is empty outside a scope, and each thread starts empty.
_CORRELATION: contextvars.ContextVar[str | None] = contextvars.ContextVar("gateway_correlation_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and goes into the JSON object.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "correlation_id", "service"}


@contextmanager
def correlation_scope(correlation_id: str) -> Iterator[None]:
    """Log lines within the block (in this thread) carry ``correlation_id``."""
    token = _CORRELATION.set(correlation_id)
    try:
        yield
    finally:
        _CORRELATION.reset(token)


class _Context(logging.Filter):
    """Puts the service and the current correlation id on each record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self._service
        record.correlation_id = _CORRELATION.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, service, correlation id, extras, error."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("service", "correlation_id"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        for name, value in record.__dict__.items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        correlation = getattr(record, "correlation_id", None)
        return line if correlation is None else f"{line} [{correlation}]"


def configure_logging(
    log_format: LogFormat = "text", level: LogLevel | int = "INFO", *, service: str, stream: IO[str] | None = None
) -> logging.Handler:
    """Set up the root logger for a command (replacing what an earlier call set up); return its handler.

    Args:
        log_format: ``text`` or ``json``.
        level: The root level.
        service: The process's service (``run``, ``detect`` ...), on every line.
        stream: Where lines go; stderr by default (stdout carries command output).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else _TextFormatter(TEXT_FORMAT))
    handler.addFilter(_Context(service))
    handler.set_name("gateway")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "gateway"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
