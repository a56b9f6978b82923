"""``gateway dlq`` edges that need no broker: a bogus stage, a ``--at`` reference that is not on the topic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from gateway.cli.main import main
from gateway.dlq import tools
from gateway.kafka.settings import KafkaSettings


def record(partition: int, offset: int, stage: str = "PARSE") -> tools.DeadLetterRecord:
    headers = {"__connect.errors.stage": stage}
    raw = tuple((k, v.encode()) for k, v in headers.items())
    return tools.DeadLetterRecord("gateway.dlq.nl-xml", partition, offset, b"k", b"<record/>", headers, raw)


@pytest.fixture
def on_topic(monkeypatch: pytest.MonkeyPatch) -> list[tools.DeadLetterRecord]:
    records = [record(0, 3), record(1, 7, "MAP")]

    def read(kafka: KafkaSettings, topic: str, *, timeout_s: float = 30.0) -> Iterator[tools.DeadLetterRecord]:
        return iter(records)

    monkeypatch.setattr(tools, "read_dead_letters", read)
    monkeypatch.setattr("gateway.cli.dlq.check_broker", lambda settings: None)  # no broker to wait for
    return records


@pytest.mark.parametrize("command", ["inspect", "replay"])
def test_a_bogus_stage_is_an_error_listing_the_valid_ones(on_topic: list[tools.DeadLetterRecord], command: str) -> None:
    result = CliRunner().invoke(main, ["dlq", command, "-c", "nl-xml", "--stage", "bogus"])
    assert result.exit_code == 2, result.output
    assert "unknown stage 'bogus'; valid stages: read, parse, map, validate, encode" in result.output


def test_a_missing_offset_is_an_error_after_the_found_ones(on_topic: list[tools.DeadLetterRecord]) -> None:
    result = CliRunner().invoke(main, ["dlq", "inspect", "-c", "nl-xml", "--at", "0:3", "--at", "0:4"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("0:3  ")  # the one that exists is still shown
    assert "no dead letter at 0:4 on gateway.dlq.nl-xml" in result.output


def test_found_offsets_and_valid_stages_exit_zero(on_topic: list[tools.DeadLetterRecord]) -> None:
    assert CliRunner().invoke(main, ["dlq", "inspect", "-c", "nl-xml", "--at", "1:7"]).exit_code == 0
    result = CliRunner().invoke(main, ["dlq", "inspect", "-c", "nl-xml", "--stage", "map"])
    assert result.exit_code == 0
    assert result.output.startswith("1:7  ")


def test_missing_refs_and_unknown_stage_are_pure() -> None:
    assert tools.missing_refs(frozenset({(0, 4), (0, 3), (2, 1)}), [record(0, 3)]) == ["0:4", "2:1"]
    assert tools.unknown_stage(None) is None
    assert tools.unknown_stage("VALIDATE") is None
    assert tools.unknown_stage("value_converter") is None
    assert tools.unknown_stage("nope") is not None
