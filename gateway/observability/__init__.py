"""Observability of the long-running processes: Prometheus metrics, health and readiness, structured logs.

The lowest layer of the gateway besides the events and errors: it imports nothing of the gateway above it, so every
loop may take its `Metrics`. Nothing here is global: each process makes one `PrometheusMetrics` over its own
``CollectorRegistry`` at the edge (the CLI) and passes it down; `NULL_METRICS` is every loop's default, so unit
tests and library users need nothing. Label values never carry personal data: connectors, stages, error classes,
rule ids, event types, topics, partitions and targets only, each metric's label sets bounded.
"""

from gateway.observability.health import Readiness
from gateway.observability.logs import JsonFormatter, configure_logging, correlation_scope
from gateway.observability.metrics import (
    METRICS,
    NULL_METRICS,
    Metrics,
    MetricSpec,
    NullMetrics,
    OutcomeTally,
    PrometheusMetrics,
)
from gateway.observability.observer import BatchObserver
from gateway.observability.probe import BrokerProbe
from gateway.observability.process import Observation, observe_process
from gateway.observability.server import ObservabilityServer
from gateway.observability.settings import ObservabilitySettings

__all__ = [
    "METRICS",
    "NULL_METRICS",
    "BatchObserver",
    "BrokerProbe",
    "JsonFormatter",
    "MetricSpec",
    "Metrics",
    "NullMetrics",
    "Observation",
    "ObservabilityServer",
    "ObservabilitySettings",
    "OutcomeTally",
    "PrometheusMetrics",
    "Readiness",
    "configure_logging",
    "correlation_scope",
    "observe_process",
]
