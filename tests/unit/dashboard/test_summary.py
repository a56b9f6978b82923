"""The incremental summary and the offset paging, with fakes: no broker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from gateway.dashboard import paging, views
from gateway.dashboard.reading import Watermarks
from gateway.dashboard.summary import SummaryKeeper
from gateway.dlq.tools import DeadLetterRecord
from tests.unit.dashboard.support import dead_letter

NOW = dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC)


class Topic:
    """Records by partition; remembers every range asked for."""

    def __init__(self) -> None:
        self.records: list[DeadLetterRecord] = []
        self.asked: list[dict[int, tuple[int, int]]] = []
        self.low = 0

    def add(self, n: int, partition: int = 0, **kw: object) -> None:
        start = sum(1 for r in self.records if r.partition == partition)
        self.records += [dead_letter(start + i, partition=partition, **kw) for i in range(n)]  # type: ignore[arg-type]

    def watermarks(self) -> Watermarks:
        highs: dict[int, int] = {}
        for r in self.records:
            highs[r.partition] = max(highs.get(r.partition, 0), r.offset + 1)
        return Watermarks({p: (self.low, h) for p, h in highs.items()})

    def read_ranges(self, ranges: Mapping[int, tuple[int, int]]) -> list[DeadLetterRecord]:
        self.asked.append(dict(ranges))
        return [
            r
            for r in self.records
            if r.partition in ranges and ranges[r.partition][0] <= r.offset < ranges[r.partition][1]
        ]


def test_the_summary_reads_only_what_was_added_since():
    topic = Topic()
    topic.add(100, minute=0)
    topic.add(50, partition=1, stage="validate", rules=("DP-001",), minute=90)
    keeper = SummaryKeeper(topic, 60, lambda: NOW)
    first = keeper.refresh()
    assert (first.counted, first.read, first.on_topic) == (150, 150, 150)
    assert topic.asked == [{0: (0, 100), 1: (0, 50)}]
    topic.add(3, minute=125)
    again = keeper.refresh()
    assert topic.asked[-1] == {0: (100, 103), 1: (50, 50)}  # only the new offsets
    assert (again.counted, again.read) == (153, 3)
    o = views.overview_of(again.counts)
    assert o.total == 153
    assert dict(o.by_stage) == {"map": 103, "validate": 50}
    assert dict(o.by_rule) == {"DP-001": 50}
    # Bounded memory: one bucket per time slot, stage, error and rule set, not one per record.
    assert len(again.counts) == 3


def test_the_summary_gives_the_chart_the_records_would():
    records = [dead_letter(i, minute=7 * i, stage=("map", "read")[i % 2]) for i in range(40)]
    topic = Topic()
    topic.records = records
    summary = SummaryKeeper(topic, 60, lambda: NOW).refresh()
    from_summary = views.chart_of(summary.counts, views.Dimension.STAGE, bucket_minutes=60)
    from_records = views.chart(records, views.Dimension.STAGE, bucket_minutes=60)
    assert [(b.start, b.label, b.count) for b in from_summary.bars] == [
        (b.start, b.label, b.count) for b in from_records.bars
    ]


def test_stage_error_and_rule_filters_select_buckets():
    counts = views.count_buckets([dead_letter(0), dead_letter(1, stage="validate", rules=("DP-001",))], 60)
    assert views.overview_of(views.select_buckets(counts, views.Filters(rule="DP-001"))).total == 1
    assert views.overview_of(views.select_buckets(counts, views.Filters(stage="map"))).total == 1
    assert views.overview_of(views.select_buckets(counts, views.Filters(error="Nope"))).total == 0


def test_cursor_text():
    assert paging.parse_cursor("0:12,3:4") == {0: 12, 3: 4}
    assert paging.parse_cursor("") == {}
    for bad in ("0", "0:x", "-1:2", "0:1,0:2", "0:1;DROP"):
        assert paging.parse_cursor(bad) is None, bad
    assert paging.format_cursor({3: 4, 0: 12}) == "0:12,3:4"


def test_tail_ranges_clamp_to_the_watermarks():
    marks = {0: (10, 100), 1: (0, 5)}
    assert paging.tail_ranges(marks, {}, 20) == {0: (80, 100), 1: (0, 5)}
    assert paging.tail_ranges(marks, {0: 25, 1: 0}, 20) == {0: (10, 25), 1: (0, 0)}
    assert paging.tail_ranges(marks, {0: 5}, 20) == {0: (10, 10), 1: (0, 5)}  # retention passed the cursor


def test_a_full_page_starts_the_next_just_above_what_it_did_not_look_at():
    # Partition 1 is older: the newest 3 are all from partition 0.
    window = [dead_letter(o, minute=100 + o) for o in range(5, 10)] + [
        dead_letter(o, partition=1, minute=o) for o in range(5, 10)
    ]
    ranges = {0: (5, 10), 1: (5, 10)}
    marks = {0: (0, 10), 1: (0, 10)}
    key = lambda r: (-views.failed_at_ms(r), r.partition, -r.offset)  # noqa: E731
    page = paging.page_of(window, ranges, marks, limit=3, newest_first=key)
    assert [(r.partition, r.offset) for r in page.rows] == [(0, 9), (0, 8), (0, 7)]
    assert page.older == {0: 7, 1: 10}  # partition 1 was not looked at: all of it comes again
    done = paging.page_of(window, ranges, {0: (5, 10), 1: (5, 10)}, limit=100, newest_first=key)
    assert done.older is None  # the start of every partition reached
