"""Eurostat statistics on a real broker: publish a generated history, build by replay, compare with the truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.config import GatewaySettings, TopicNames
from gateway.devservices.eu_run import publish_events
from gateway.samples.statistics_stories import KINDS, statistics_stories
from gateway.statistics.config import StatisticsConfig
from gateway.statistics.replay import build
from gateway.statistics.sdmx import read_sdmx_csv, read_sdmx_ml
from gateway.statistics.tables import Period

pytestmark = pytest.mark.integration

PREPARED = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def test_build_equals_truth_rerun_is_stable_late_event_is_a_revision(
    kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = new_topic("stats-events", partitions=3)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=TopicNames(canonical=topic))
    stories = statistics_stories(4 * len(KINDS) * 3, seed=21)
    publish_events(settings, stories.events)
    config = StatisticsConfig(rounding=1)
    out = tmp_path / "out"
    periods = [Period.parse(p) for p in stories.periods]

    first = build(settings, periods, config, out, prepared=PREPARED)
    assert first.replay.messages == len(stories.events)
    for written in first.periods:
        label = written.tables.period.label
        for name, table in written.tables.tables.items():
            truth = dict(stories.expected.get(label, {}).get(name, {}))
            assert table.cells == truth, (label, name)
            if label in ("2026-Q1", "2025"):
                ml = written.folder / "sdmx-ml" / f"{table.dataflow}.xml"
                sc = written.folder / "sdmx-csv" / f"{table.dataflow}.csv"
                assert read_sdmx_ml(ml, out / "structure.xml", config, table.dataflow) == truth
                assert read_sdmx_csv(sc, out / "structure.xml", config, table.dataflow) == truth

    again = build(settings, periods, config, out, prepared=PREPARED)
    assert [w.tables for w in again.periods] == [w.tables for w in first.periods]
    assert all(w.revision.revisions == () for w in again.periods)

    publish_events(settings, stories.late_events)
    late = build(settings, [Period.parse("2026-Q1"), Period.parse("2026"), Period.parse("2025")], config, out)
    revised = {w.tables.period.label: w.revision for w in late.periods}
    assert next((r.table, r.old_exact, r.new_exact) for r in revised["2026-Q1"].revisions)[0] == "returned"
    assert sum(r.new_exact - r.old_exact for r in revised["2026-Q1"].revisions) == 1
    assert sum(r.new_exact - r.old_exact for r in revised["2026"].revisions) == 1
    assert revised["2025"].revisions == ()
    for w in late.periods:
        label = w.tables.period.label
        assert {n: t.cells for n, t in w.tables.tables.items()} == {
            n: dict(stories.expected_after_late.get(label, {}).get(n, {})) for n in w.tables.tables
        }


def test_cli_build_and_chart(kafka_bootstrap: str, new_topic: Callable[..., str], tmp_path: Path) -> None:
    from gateway.cli.stats import stats

    topic = new_topic("stats-cli", partitions=2)
    settings = GatewaySettings(kafka={"bootstrap_servers": kafka_bootstrap}, topics=TopicNames(canonical=topic))
    publish_events(settings, statistics_stories(2 * len(KINDS), seed=2).events)
    config = tmp_path / "gateway.toml"
    config.write_text(f'[topics]\ncanonical = "{topic}"\n')
    runner = CliRunner()
    args = ["--config", str(config), "--bootstrap", kafka_bootstrap, "--out"]
    done = runner.invoke(stats, ["build", "--period", "2025-Q1", *args, str(tmp_path / "o")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "o" / "2025-Q1" / "sdmx-ml" / "MIGR_EIRTN1.xml").exists()
    again = runner.invoke(stats, ["build", "--period", "2025-Q1", *args, str(tmp_path / "o")])
    assert "same figures as the last build" in again.output
    done = runner.invoke(stats, ["chart", "--from", "2024-Q1", "--to", "2026-Q4", *args, str(tmp_path / "c")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "c" / "returns.png").read_bytes()[:4] == b"\x89PNG"
    assert "<img" in (tmp_path / "c" / "returns.html").read_text()
