"""librdkafka's lines through Python logging: warnings and up, repeats dropped within a window."""

from __future__ import annotations

import logging

import pytest

from gateway.kafka.logs import LibrdkafkaLog, RepeatFilter

FMT = "%s [%s] %s"
REFUSED = (
    "[thrd:127.0.0.1:1/bootstrap]: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after {}ms in state CONNECT)"
)


def test_repeats_that_differ_only_by_numbers_are_shown_once_per_window(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = LibrdkafkaLog(repeats=RepeatFilter(window_s=60, clock=lambda: now[0]))
    with caplog.at_level(logging.DEBUG, logger="gateway.kafka.librdkafka"):
        for i in range(1000):
            now[0] = i * 0.05  # fifty seconds of reconnects
            log.log(logging.ERROR, FMT, "FAIL", f"returns-gateway#producer-{1 + i % 3}", REFUSED.format(i % 7))
        log.log(logging.ERROR, FMT, "OTHER", "returns-gateway#producer-1", "something else")
        now[0] = 61.0
        log.log(logging.ERROR, FMT, "FAIL", "returns-gateway#producer-1", REFUSED.format(0))

    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert lines[0].startswith("librdkafka: FAIL [returns-gateway#producer-1] [thrd:127.0.0.1:1/bootstrap]: Connect")
    assert caplog.records[0].levelno == logging.ERROR


def test_informational_lines_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    log = LibrdkafkaLog()
    with caplog.at_level(logging.DEBUG, logger="gateway.kafka.librdkafka"):
        log.log(logging.INFO, FMT, "CONFWARN", "c", "informational")
        log.log(logging.DEBUG, FMT, "BROKER", "c", "debug")
        log.log(logging.WARNING, FMT, "GETPID", "c", "a warning")
    assert [r.getMessage() for r in caplog.records] == ["librdkafka: GETPID [c] a warning"]
