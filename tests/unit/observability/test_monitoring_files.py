"""The alert rules and the Grafana dashboard in docker/: valid, and naming only metrics the gateway exposes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from gateway.observability import PrometheusMetrics

DOCKER = Path(__file__).resolve().parents[3] / "docker"
ALERTS = DOCKER / "prometheus" / "alerts.yml"
DASHBOARD = DOCKER / "grafana" / "gateway.json"
OPERATIONS = DOCKER.parent / "docs" / "operations.md"

_METRIC = re.compile(r"\bgateway_[a-z_]+")


def _exposed() -> set[str]:
    """The series names a scrape of a gateway process can show, read from a real registry."""
    registry = CollectorRegistry()
    PrometheusMetrics(registry, "run")
    names: set[str] = set()
    for family in registry.collect():
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
    return names


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _exprs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def test_every_metric_an_alert_names_exists() -> None:
    exposed = _exposed()
    named = {name for rule in _rules() for name in _METRIC.findall(rule["expr"])}
    assert named, "the rules name no gateway metric"
    assert named - exposed == set()


def test_every_metric_a_dashboard_panel_names_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = list(_exprs(dashboard["panels"]))
    assert len(exprs) >= 15
    named = {name for expr in exprs for name in _METRIC.findall(expr)}
    assert named - _exposed() == set()


def test_the_alerts_cover_dead_letters_lag_stuck_transactions_and_readiness() -> None:
    exprs = " ".join(rule["expr"] for rule in _rules())
    for metric in ("gateway_dead_letters_total", "gateway_consumer_lag", "gateway_transactions_total", "gateway_ready"):
        assert metric in exprs


def test_every_alert_has_a_runbook_entry() -> None:
    runbook = OPERATIONS.read_text(encoding="utf-8")
    for rule in _rules():
        anchor = rule["annotations"]["runbook"].partition("#")[2]
        assert anchor == rule["alert"].lower()
        assert f"### {rule['alert']}" in runbook, f"docs/operations.md has no section for {rule['alert']}"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian package prometheus)")
def test_promtool_accepts_the_rules_and_the_config() -> None:
    rules = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = DOCKER / "prometheus" / "prometheus.yml"
    checked = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
