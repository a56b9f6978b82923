"""SDMX round trips through sdmx1, the plain CSV, determinism, the ledger and revisions, the chart."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from gateway.samples.statistics_stories import KINDS, statistics_stories
from gateway.statistics.chart import quarterly_returns, write_chart
from gateway.statistics.config import StatisticsConfig
from gateway.statistics.facts import fold
from gateway.statistics.output import write_period
from gateway.statistics.sdmx import read_sdmx_csv, read_sdmx_ml
from gateway.statistics.tables import Period, count, quarters_between

PREPARED = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
STORIES = statistics_stories(2 * len(KINDS) * 3, seed=11)


def _write(out: Path, period: str, config: StatisticsConfig, late: bool = False):
    events = STORIES.events + (STORIES.late_events if late else [])
    return write_period(count(fold(events), Period.parse(period), config), config, out, prepared=PREPARED)


def test_sdmx_ml_and_csv_read_back_with_sdmx1_equal_the_truth(tmp_path: Path) -> None:
    config = StatisticsConfig(rounding=1)
    for period in ("2025-Q2", "2025"):
        written = _write(tmp_path, period, config)
        for name, table in written.tables.tables.items():
            truth = dict(STORIES.expected[period].get(name, {}))
            assert table.cells == truth
            ml = read_sdmx_ml(written.folder / "sdmx-ml" / f"{table.dataflow}.xml", tmp_path / "structure.xml",
                              config, table.dataflow)  # fmt: skip
            sc = read_sdmx_csv(written.folder / "sdmx-csv" / f"{table.dataflow}.csv", tmp_path / "structure.xml",
                               config, table.dataflow)  # fmt: skip
            assert ml == truth, (period, name)
            assert sc == truth, (period, name)


def test_published_files_hold_rounded_figures(tmp_path: Path) -> None:
    config = StatisticsConfig()
    written = _write(tmp_path, "2025", config)
    table = written.tables.tables["ordered"]
    ml = read_sdmx_ml(written.folder / "sdmx-ml" / f"{table.dataflow}.xml", tmp_path / "structure.xml", config,
                      table.dataflow)  # fmt: skip
    assert ml == table.published(5)
    assert ml != table.cells
    with (written.folder / "nso" / "ordered.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"period", "frequency", "reporting_country", "citizenship", "sex", "age_class", "persons"}
    assert sum(int(r["persons"]) for r in rows) == sum(table.published(5).values())


def test_rebuild_writes_the_same_bytes_and_no_revision(tmp_path: Path) -> None:
    config = StatisticsConfig()
    first = _write(tmp_path, "2026-Q1", config)
    files = {p: p.read_bytes() for p in sorted(first.folder.rglob("*")) if p.is_file()}
    again = _write(tmp_path, "2026-Q1", config)
    assert {p: p.read_bytes() for p in sorted(first.folder.rglob("*")) if p.is_file()} == files
    assert first.revision.first_build
    assert not again.revision.first_build
    assert again.revision.revisions == ()
    assert again.revision.path is None


def test_late_event_is_reported_as_a_revision(tmp_path: Path) -> None:
    config = StatisticsConfig(rounding=1)
    _write(tmp_path, "2026-Q1", config)
    later = _write(tmp_path, "2026-Q1", config, late=True)
    rev = later.revision
    assert not rev.config_changed
    assert [(r.table, r.new_exact - r.old_exact) for r in rev.revisions] == [("returned", 1)]
    assert rev.path is not None
    assert rev.path.name == "2026-Q1-1.csv"
    assert "returned" in rev.path.read_text()
    changed = _write(tmp_path, "2026-Q1", StatisticsConfig(rounding=5), late=True).revision
    assert changed.config_changed
    assert changed.path is not None
    assert changed.path.name == "2026-Q1-2.csv"


def test_chart(tmp_path: Path) -> None:
    config = StatisticsConfig(rounding=1)
    facts = fold(STORIES.events)
    points = quarterly_returns(facts, quarters_between("2024-Q1", "2026-Q4"), config)
    assert len(points) == 12
    for p in points:
        assert p.total == sum(count(facts, Period.parse(p.quarter), config).tables["returned"].cells.values())
    png, page = write_chart(points, tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in text
    assert "2025-Q3" in text
