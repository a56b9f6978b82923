"""Log set-up: JSON lines with service and correlation id, text lines, one handler however often configured."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gateway.observability import configure_logging, correlation_scope


@pytest.fixture(autouse=True)
def _restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_service_correlation_extras_and_errors() -> None:
    stream = io.StringIO()
    configure_logging("json", "DEBUG", service="run", stream=stream)
    log = logging.getLogger("gateway.test")
    log.info("outside %d", 1)
    with correlation_scope("run:host-1:abcd"):
        log.warning("batch committed", extra={"records": 12})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [entry["message"] for entry in lines] == ["outside 1", "batch committed", "failed"]
    assert "correlation_id" not in lines[0]
    assert lines[1]["correlation_id"] == "run:host-1:abcd"
    assert lines[1]["records"] == 12
    assert lines[1]["service"] == "run"
    assert lines[1]["level"] == "WARNING"
    assert lines[1]["logger"] == "gateway.test"
    assert lines[1]["time"].endswith("+00:00")
    assert lines[2]["error"] == "ValueError"
    assert "boom" in lines[2]["trace"]


def test_text_lines_end_with_the_correlation_id() -> None:
    stream = io.StringIO()
    configure_logging("text", "INFO", service="watch", stream=stream)
    with correlation_scope("ingest:42"):
        logging.getLogger("gateway.test").info("hello")
    logging.getLogger("gateway.test").debug("not at INFO")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("INFO gateway.test: hello [ingest:42]")


def test_configuring_again_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("text", service="run", stream=first)
    configure_logging("json", service="run", stream=second)
    logging.getLogger("gateway.test").warning("once")
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["message"] == "once"
    assert len([h for h in logging.getLogger().handlers if h.get_name() == "gateway"]) == 1
