from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from gateway.dashboard import views
from gateway.dashboard.views import Dimension, Filters
from gateway.dlq import headers as H
from tests.unit.dashboard.support import dead_letter, sample


def test_view_decodes_the_headers():
    rec = sample()[2]
    v = views.view(rec)
    assert (v.ref, v.stage, v.error, v.message) == (
        "0:2",
        "validate",
        "RuleViolationError",
        "departure before decision",
    )
    assert v.rules == ("DP-001", "VD-002")
    assert v.legal_references == ("Dir. 2008/115/EC Art. 7", "Dir. 2008/115/EC Art. 8")
    assert (v.source, v.position, v.correlation) == ("/in/export.csv", "line 4", "run-1")
    assert v.failed_at == dt.datetime(2026, 1, 1, 1, 10, tzinfo=dt.UTC)
    assert v.preview.kind == "text"
    assert v.replay_chain == ()
    assert v.original_length is None


def test_view_of_a_replayed_cut_dead_letter():
    rec = dead_letter(7)
    extra = (
        (H.REPLAYED_FROM, b"t.dlq.de-csv:0:1"),
        (H.REPLAYED_FROM, b"t.dlq.de-csv:1:4"),
        (H.ORIGINAL_LENGTH, b"9000"),
    )
    raw = rec.raw_headers + extra
    rec = type(rec)(rec.topic, 0, 7, None, rec.value, H.as_text(raw), raw)
    v = views.view(rec)
    assert v.replay_chain == ("t.dlq.de-csv:0:1", "t.dlq.de-csv:1:4")
    assert v.original_length == 9000


def test_header_rows_keep_order_explain_and_escape():
    rec = dead_letter(0)
    raw = (*rec.raw_headers, ("x-odd", "a\u202eb".encode()), ("x-bin", b"\xff\x00"))
    rows = views.header_rows(type(rec)(rec.topic, 0, 0, None, rec.value, H.as_text(raw), raw))
    names = [r.name for r in rows]
    assert names[: len(rec.raw_headers)] == [k for k, _ in rec.raw_headers]
    by_name = {r.name: r for r in rows}
    assert by_name[H.STAGE].value == "MAP"
    assert by_name[H.STAGE].meaning == "stage that failed"
    assert by_name["x-odd"].value == "a\\u202eb"
    assert by_name["x-bin"].value.startswith("(binary, 2 bytes) ff 00")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), [0, 1, 2, 3]),
        (Filters(stage="MAP"), [0, 3]),
        (Filters(error="ParseError"), [1]),
        (Filters(rule="VD-002"), [2]),
        (Filters(rule="VD-00"), []),
        (Filters(text="BEFORE"), [2]),
        (Filters(text="line 5"), [3]),
        (Filters(stage="map", text="unknown"), [0, 3]),
    ],
)
def test_apply_filters(filters: Filters, expected: list[int]):
    assert [r.offset for r in views.apply_filters(sample(), filters)] == expected


def test_an_unknown_stage_is_refused_naming_the_valid_ones():
    with pytest.raises(ValidationError, match="valid stages: read, parse"):
        Filters(stage="nonsense")


def test_filters_active():
    assert not Filters().active
    assert Filters(text="x").active


def test_overview_counts_by_stage_error_and_rule():
    o = views.overview(sample())
    assert o.total == 4
    assert o.by_stage == [("map", 2), ("read", 1), ("validate", 1)]
    assert dict(o.by_error) == {"MappingError": 2, "ParseError": 1, "RuleViolationError": 1}
    assert o.by_rule == [("DP-001", 1), ("VD-002", 1)]


def test_chart_stacks_per_bucket():
    c = views.chart(sample(), Dimension.STAGE, bucket_minutes=60, width=200, height=100, min_buckets=1)
    assert c.series == ["map", "read", "validate"]
    assert (c.first, c.last) == (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC))
    assert c.max_count == 2
    cells = [(b.start.hour, b.label, b.count) for b in c.bars]
    assert cells == [(0, "map", 1), (0, "read", 1), (1, "map", 1), (1, "validate", 1)]
    first_hour = [b for b in c.bars if b.start.hour == 0]
    assert sum(b.height for b in first_hour) == pytest.approx(100)  # the tallest bucket fills the chart
    assert first_hour[1].y + first_hour[1].height == pytest.approx(first_hour[0].y)  # stacked, no overlap


def test_chart_shows_at_least_min_buckets_ending_at_the_last():
    c = views.chart(sample(), Dimension.STAGE, bucket_minutes=60, width=240, min_buckets=24)
    assert c.last == dt.datetime(2026, 1, 1, 1, tzinfo=dt.UTC)
    assert c.first == c.last - dt.timedelta(hours=23)
    assert {b.x for b in c.bars} == {221.0, 231.0}  # the last two of 24 slots of 10 px, 1 px apart


def test_chart_by_rule_counts_each_rule_and_none():
    c = views.chart(sample(), Dimension.RULE, bucket_minutes=24 * 60)
    assert sorted((b.label, b.count) for b in c.bars) == [("(none)", 3), ("DP-001", 1), ("VD-002", 1)]


def test_chart_widens_its_buckets_over_a_long_span():
    recs = [dead_letter(i, minute=i * 600) for i in range(50)]  # 490 hours
    c = views.chart(recs, Dimension.STAGE, bucket_minutes=60)
    assert c.bucket_minutes == 480
    assert sum(b.count for b in c.bars) == 50


def test_chart_sums_beyond_eight_series_as_other():
    recs = [dead_letter(i, error=f"x.E{i}") for i in range(10)]
    c = views.chart(recs, Dimension.ERROR)
    assert len(c.series) == 9
    assert c.series[-1] == "other"
    assert sum(b.count for b in c.bars if b.label == "other") == 2


def test_chart_without_times():
    rec = dead_letter(0)
    raw = tuple((k, v) for k, v in rec.raw_headers if k != H.TIMESTAMP)
    c = views.chart([type(rec)(rec.topic, 0, 0, None, b"", H.as_text(raw), raw)], Dimension.STAGE)
    assert (c.bars, c.undated) == ([], 1)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["0:1", "2:30"], frozenset({(0, 1), (2, 30)})),
        ([], frozenset()),
        (["0:1", "x:1"], None),
        (["01"], None),
        (["-1:2"], None),
    ],
)
def test_parse_refs(values: list[str], expected: frozenset[tuple[int, int]] | None):
    assert views.parse_refs(values) == expected
