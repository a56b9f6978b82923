"""Waiting for the cluster at start-up: a line per interval, a deadline, one clear error (no broker needed)."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import KafkaError, KafkaException

from gateway.errors import FatalError
from gateway.kafka.connect import BrokerUnreachableError, wait_for_broker
from gateway.kafka.settings import KafkaSettings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class DownAdmin:
    """An admin client whose metadata requests fail after their time-out, ``up_after`` times (or forever)."""

    def __init__(self, clock: Clock, up_after: int | None = None) -> None:
        self.clock, self.up_after, self.calls = clock, up_after, 0

    def list_topics(self, timeout: float) -> object:
        self.calls += 1
        if self.up_after is not None and self.calls > self.up_after:
            return object()
        self.clock.now += timeout
        raise KafkaException(
            KafkaError(KafkaError._TRANSPORT, "Failed to get metadata: Local: Broker transport failure")
        )


def test_gives_up_at_the_deadline_with_one_line_and_logs_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    kafka = KafkaSettings(bootstrap_servers="127.0.0.1:1", connect_timeout_s=300, connect_log_interval_s=60)
    admin = DownAdmin(clock)
    with (
        caplog.at_level(logging.WARNING, logger="gateway.kafka.connect"),
        pytest.raises(BrokerUnreachableError) as caught,
    ):
        wait_for_broker(kafka, admin=admin, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]

    assert 300 <= clock.now < 306
    assert isinstance(caught.value, FatalError)
    assert caught.value.exit_code == 69
    assert str(caught.value) == (
        "Kafka at 127.0.0.1:1 unreachable for 300 s (kafka.connect_timeout_s); "
        "last error: _TRANSPORT: Failed to get metadata: Local: Broker transport failure"
    )
    waiting = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting for Kafka at 127.0.0.1:1")]
    assert len(waiting) == 5  # about one a minute over five minutes, not one per attempt


def test_returns_once_the_cluster_answers(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    admin = DownAdmin(clock, up_after=3)
    with caplog.at_level(logging.WARNING, logger="gateway.kafka.connect"):
        wait_for_broker(KafkaSettings(), admin=admin, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert admin.calls == 4
    assert "reachable again" in caplog.text


def test_an_answering_cluster_costs_one_request_and_no_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    admin = DownAdmin(clock, up_after=0)
    with caplog.at_level(logging.INFO):
        wait_for_broker(KafkaSettings(), admin=admin, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert admin.calls == 1
    assert caplog.records == []


def test_the_timing_settings_are_not_passed_to_librdkafka() -> None:
    config = KafkaSettings(connect_timeout_s=5, connect_log_interval_s=1).to_librdkafka()
    assert not any("connect" in key for key in config)


class TickingClock(Clock):
    """A clock that moves on every reading, as a real monotonic clock does."""

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def test_an_answering_cluster_is_no_line_on_a_clock_that_moves(caplog: pytest.LogCaptureFixture) -> None:
    # Two readings of time.monotonic() differ: "reachable again" must follow a failed probe, not a clock tick.
    clock = TickingClock()
    admin = DownAdmin(clock, up_after=0)
    with caplog.at_level(logging.INFO):
        wait_for_broker(KafkaSettings(), admin=admin, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert admin.calls == 1
    assert caplog.records == []


def test_the_first_probe_is_short_and_the_later_ones_longer() -> None:
    clock = TickingClock()
    admin = DownAdmin(clock, up_after=2)
    timeouts: list[float] = []
    probe = admin.list_topics

    def recording(timeout: float) -> object:
        timeouts.append(timeout)
        return probe(timeout)

    admin.list_topics = recording  # type: ignore[method-assign]
    wait_for_broker(KafkaSettings(), admin=admin, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]
    assert timeouts == [1.0, 5.0, 5.0]
