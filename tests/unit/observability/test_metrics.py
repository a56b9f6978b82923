"""The metrics object: what a committed batch adds, bounded label sets, its own registry, the router's tally."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from gateway.connectors.base import RawRecord
from gateway.dlq import DeadLetter
from gateway.observability import METRICS, NULL_METRICS, Metrics, NullMetrics, OutcomeTally, PrometheusMetrics
from gateway.observability.metrics import MAX_LABEL_SETS
from gateway.pipeline.outcome import EncodedEvent, Outcome
from gateway.pipeline.router import tally


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_outcomes_count_records_events_and_dead_letters_by_their_labels() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry, "run")
    batch = OutcomeTally("de-csv", records=5)
    batch.events.update({"ReturnDecisionIssued": 3, "DepartureConfirmed": 1})
    batch.dead_letters[("parse", "gateway.errors.ParseError", "")] += 1
    metrics.outcomes(batch)
    metrics.outcomes(batch)

    assert _value(registry, "gateway_records_in_total", connector="de-csv") == 10
    assert _value(registry, "gateway_events_out_total", connector="de-csv", event_type="ReturnDecisionIssued") == 6
    dead = {"connector": "de-csv", "stage": "parse", "error_class": "gateway.errors.ParseError", "rule": ""}
    assert _value(registry, "gateway_dead_letters_total", **dead) == 2


def test_transactions_batches_lag_outbox_and_retries() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry, "detect", clock=lambda: 1_700_000_000.0)
    metrics.transaction("committed", seconds=0.2)
    metrics.transaction("aborted")
    metrics.batch(records=7, outputs={"gateway.alerts.v1": 2}, oldest_age_s=3.0, alerts={"SM-1": 2})
    metrics.lag("gateway.case-events.v1", 2, 40)
    metrics.kafka_retry()
    metrics.outbox("sis", {"delivered": 3, "rejected": 0}, pending=12)
    metrics.file("de-csv", "processed")
    metrics.file("de-csv", "processed")

    assert _value(registry, "gateway_transactions_total", service="detect", result="committed") == 1
    assert _value(registry, "gateway_transactions_total", service="detect", result="aborted") == 1
    assert _value(registry, "gateway_last_commit_timestamp_seconds", service="detect") == 1_700_000_000.0
    assert _value(registry, "gateway_batch_duration_seconds_count", service="detect") == 1
    assert _value(registry, "gateway_end_to_end_seconds_sum", service="detect") == 3.0
    assert _value(registry, "gateway_input_records_total", service="detect") == 7
    assert _value(registry, "gateway_output_messages_total", service="detect", topic="gateway.alerts.v1") == 2
    assert _value(registry, "gateway_alerts_total", rule="SM-1") == 2
    lag = {"service": "detect", "topic": "gateway.case-events.v1", "partition": "2"}
    assert _value(registry, "gateway_consumer_lag", **lag) == 40
    assert _value(registry, "gateway_kafka_retries_total", service="detect") == 1
    assert _value(registry, "gateway_outbox_delivered_total", target="sis", outcome="delivered") == 3
    assert _value(registry, "gateway_outbox_delivered_total", target="sis", outcome="rejected") is None
    assert _value(registry, "gateway_outbox_pending", target="sis") == 12
    assert _value(registry, "gateway_files_total", connector="de-csv", outcome="processed") == 2
    assert _value(registry, "gateway_files_total", connector="de-csv", outcome="failed") is None

    metrics.lag("gateway.case-events.v1", 2, None)  # revoked: the series goes
    assert _value(registry, "gateway_consumer_lag", **lag) is None
    metrics.lag("gateway.case-events.v1", 9, None)  # never reported: nothing to remove, no error


def test_label_sets_are_bounded_whatever_comes() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry, "run")
    for i in range(MAX_LABEL_SETS + 50):
        metrics.batch(records=0, outputs={f"topic-{i}": 1}, oldest_age_s=None, alerts={})
    series = [s for f in registry.collect() if f.name == "gateway_output_messages" for s in f.samples]
    topics = {s.labels["topic"] for s in series if s.name.endswith("_total")}
    assert len(topics) == MAX_LABEL_SETS + 1  # the first ones, and "other" for the rest
    assert _value(registry, "gateway_output_messages_total", service="other", topic="other") == 50


def test_every_declared_metric_is_in_the_registry_and_nothing_else() -> None:
    registry = CollectorRegistry()
    PrometheusMetrics(registry, "run")
    families = {f.name: f.type for f in registry.collect()}
    assert families == {spec.name: spec.kind for spec in METRICS}


def test_the_global_registry_is_left_alone() -> None:
    PrometheusMetrics(CollectorRegistry(), "run")
    PrometheusMetrics(CollectorRegistry(), "run")  # a second process object: no "duplicated timeseries" error
    assert not [f for f in REGISTRY.collect() if f.name.startswith("gateway_")]


def test_null_metrics_take_every_call() -> None:
    metrics: Metrics = NullMetrics()
    metrics.outcomes(OutcomeTally("x", records=1))
    metrics.transaction("committed", seconds=1.0)
    metrics.batch(records=1, outputs={"t": 1}, oldest_age_s=1.0, alerts={"r": 1})
    metrics.lag("t", 0, 1)
    metrics.kafka_retry()
    metrics.outbox("sis", {"delivered": 1}, 0)
    metrics.file("x", "failed")
    assert isinstance(NULL_METRICS, NullMetrics)


def _record(i: int, data: bytes = b"FAMILIENNAME;1984-08-02") -> RawRecord:
    return RawRecord(data=data, source="export.csv", position=f"line {i}", index=i)


def test_router_tally_counts_each_outcome_once_without_record_content() -> None:
    ok = Outcome(
        _record(0), events=(EncodedEvent(b"k", b"v", "ReturnDecisionIssued"), EncodedEvent(b"k", b"v", "EntryRecorded"))
    )
    parse = Outcome(_record(1), dead_letter=DeadLetter(_record(1), "parse", "gateway.errors.ParseError", "bad"))
    rule = Outcome(
        _record(2),
        dead_letter=DeadLetter(
            _record(2), "validate", "gateway.errors.RuleViolationError", "x", rule_ids=("SIS-3", "CD-1")
        ),
    )
    counts = tally("de-csv", [ok, parse, rule])
    assert counts.records == 3
    assert counts.events == {"ReturnDecisionIssued": 1, "EntryRecorded": 1}
    assert counts.dead_letters == {
        ("parse", "gateway.errors.ParseError", ""): 1,
        ("validate", "gateway.errors.RuleViolationError", "SIS-3"): 1,
    }
    labels = {str(v) for key in counts.dead_letters for v in key} | set(counts.events) | {counts.connector}
    assert not [v for v in labels if "FAMILIENNAME" in v or "1984" in v]


@pytest.mark.parametrize("empty", [OutcomeTally("x")])
def test_an_empty_tally_adds_no_series(empty: OutcomeTally) -> None:
    registry = CollectorRegistry()
    PrometheusMetrics(registry, "run").outcomes(empty)
    assert _value(registry, "gateway_records_in_total", connector="x") is None
