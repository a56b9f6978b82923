"""The RRAI export on the real broker: a generated multi-year history replayed from the canonical topic gives exactly
its known counts, and a second run gives the same bytes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer

from gateway.adapters.rrai import Quarter, RraiConfig, export_quarter, replay_usage
from gateway.cli.rrai import rrai
from gateway.config import GatewaySettings, TopicNames
from gateway.devservices.eu_run import publish_events
from gateway.events.headers import EVENT_TYPE_HEADER
from gateway.samples.rrai_stories import STORY_NAMES, counts_from_rows, rrai_stories
from gateway.validation.programmes import example_programmes_path, load_programmes

pytestmark = pytest.mark.integration

CATALOGUE = load_programmes(example_programmes_path())


def test_the_export_of_a_generated_history_equals_its_truth_exactly(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic("rrai-events", partitions=3)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=TopicNames(canonical=topic))
    stories = rrai_stories(len(STORY_NAMES) * 24)
    publish_events(settings, stories.events)
    # An event type the count does not read, with bytes no codec could decode: skipped by its header, undecoded.
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, b"\xc3\x01not-avro", key=b"k", headers=[(EVENT_TYPE_HEADER, b"ENTRY_RECORDED")])
    producer.flush(10)

    started = time.perf_counter()
    usage = replay_usage(settings.kafka, topic)
    replay_s = time.perf_counter() - started
    assert usage.events_read == len(stories.events)
    assert replay_s < 30

    for quarter in stories.quarters():
        for threshold in (1, 5):
            out = tmp_path / f"t{threshold}"
            report, (json_path, csv_path) = export_quarter(
                settings.kafka, topic, Quarter.parse(quarter), CATALOGUE, RraiConfig(threshold=threshold), out
            )
            doc = json.loads(json_path.read_bytes())
            assert counts_from_rows(doc["rows"]) == stories.expected_counts(quarter, threshold), (quarter, threshold)
            assert len(csv_path.read_text().splitlines()) == len(report.rows) + 1

    # The command, twice: the same bytes as the library's, both times.
    config = tmp_path / "gateway.toml"
    validation = tmp_path / "validation.toml"
    validation.write_text(f'programme_catalogue = "{example_programmes_path()}"\n')
    kafka_toml = f'[kafka]\nbootstrap_servers = "{kafka_bootstrap}"\n'
    config.write_text(f'rules_config = "{validation}"\n{kafka_toml}[topics]\ncanonical = "{topic}"\n')
    quarter = stories.quarters()[5]
    runs = []
    for n in range(2):
        out = tmp_path / f"cli{n}"
        result = CliRunner().invoke(rrai, ["export", "--quarter", quarter, "--out", str(out), "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert "counts suppressed below 5" in result.output
        runs.append([(out / f"rrai-usage-{quarter}.{ext}").read_bytes() for ext in ("json", "csv")])
    assert runs[0] == runs[1]
    assert runs[0] == [(tmp_path / "t5" / f"rrai-usage-{quarter}.{ext}").read_bytes() for ext in ("json", "csv")]
