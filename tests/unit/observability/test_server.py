"""The HTTP endpoints, served for real on an ephemeral port and asked with real HTTP requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from gateway.observability import ObservabilityServer, PrometheusMetrics, Readiness


@pytest.fixture
def served() -> Iterator[tuple[str, PrometheusMetrics, Readiness]]:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry, "run")
    readiness = Readiness(on_change=metrics.set_ready)
    readiness.require("broker", "broker not reached yet")
    readiness.require("partitions", "waiting for partitions")
    with ObservabilityServer(registry, readiness, port=0) as server:
        yield f"http://127.0.0.1:{server.port}", metrics, readiness


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_healthz_answers_while_the_process_lives(served: tuple[str, PrometheusMetrics, Readiness]) -> None:
    base, _, _ = served
    assert _get(f"{base}/healthz") == (200, "application/json", b'{"status": "alive"}')


def test_readyz_is_503_with_reasons_until_every_condition_is_met(
    served: tuple[str, PrometheusMetrics, Readiness],
) -> None:
    base, _, readiness = served
    status, kind, body = _get(f"{base}/readyz")
    assert (status, kind) == (503, "application/json")
    assert json.loads(body) == {
        "status": "not ready",
        "reasons": {"broker": "broker not reached yet", "partitions": "waiting for partitions"},
    }
    readiness.met("broker")
    assert json.loads(_get(f"{base}/readyz")[2])["reasons"] == {"partitions": "waiting for partitions"}
    readiness.met("partitions")
    assert _get(f"{base}/readyz")[:2] == (200, "application/json")
    readiness.unmet("broker", "broker unreachable")
    assert _get(f"{base}/readyz")[0] == 503


def test_metrics_serves_the_process_registry_in_the_text_format(
    served: tuple[str, PrometheusMetrics, Readiness],
) -> None:
    base, metrics, readiness = served
    metrics.transaction("committed", seconds=0.1)
    status, kind, body = _get(f"{base}/metrics")
    text = body.decode()
    assert status == 200
    assert kind.startswith("text/plain")
    assert 'gateway_transactions_total{result="committed",service="run"} 1.0' in text
    assert 'gateway_ready{service="run"} 0.0' in text
    readiness.met("broker")
    readiness.met("partitions")
    assert 'gateway_ready{service="run"} 1.0' in _get(f"{base}/metrics")[2].decode()
    assert "python_gc" not in text  # the process registry only: no default collectors from the global one


def test_unknown_paths_are_404(served: tuple[str, PrometheusMetrics, Readiness]) -> None:
    base, _, _ = served
    assert _get(f"{base}/")[0] == 404


def test_stop_releases_the_port() -> None:
    server = ObservabilityServer(CollectorRegistry(), Readiness(), port=0).start()
    port = server.port
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_a_process_that_has_required_nothing_yet_is_starting() -> None:
    with ObservabilityServer(CollectorRegistry(), Readiness(), port=0) as server:
        status, _, body = _get(f"http://127.0.0.1:{server.port}/readyz")
    assert status == 503
    assert json.loads(body)["reasons"] == {"process": "starting (no condition reported yet)"}
