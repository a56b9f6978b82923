"""Typed settings of a process's observability: the metrics/health port and the log format."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LogFormat = Literal["text", "json"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class ObservabilitySettings(BaseModel):
    """How a long-running process exposes itself (``[observability]``, ``GATEWAY_OBSERVABILITY__*``).

    Attributes:
        metrics_port: Port of ``/metrics``, ``/healthz`` and ``/readyz``; None (default) serves nothing. 0 picks a
            free port (tests).
        metrics_host: Address the server binds; loopback by default, ``0.0.0.0`` in a container.
        log_format: ``text`` for people, ``json`` (one object a line) for a log pipeline.
        log_level: The root log level.
        lag_interval_s: Seconds between two readings of the consumer lag (each also tells whether the broker answers).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metrics_port: int | None = Field(default=None, ge=0, le=65_535)
    metrics_host: str = "127.0.0.1"
    log_format: LogFormat = "text"
    log_level: LogLevel = "INFO"
    lag_interval_s: float = Field(default=15.0, gt=0)
