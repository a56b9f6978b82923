"""A generated multi-year history with known truth: the counts equal the truth exactly, suppressed or not."""

import json

import pytest

from gateway.adapters.rrai import Quarter, RraiConfig, build_report, fold_usage, write_report
from gateway.samples.rrai_stories import STORY_NAMES, counts_from_rows, rrai_stories
from gateway.validation.programmes import example_programmes_path, load_programmes

CATALOGUE = load_programmes(example_programmes_path())
STORIES = rrai_stories(len(STORY_NAMES) * 30)
USAGE = fold_usage(STORIES.events)


def test_the_history_spans_several_years_and_every_story() -> None:
    years = {q[:4] for q in STORIES.quarters()}
    assert years >= {"2025", "2026", "2027"}
    assert set(STORIES.story_of.values()) == set(STORY_NAMES)


@pytest.mark.parametrize("threshold", [1, 5])
def test_every_quarter_equals_the_truth(threshold: int) -> None:
    suppressed = shown = 0
    for quarter in STORIES.quarters():
        report = build_report(USAGE, Quarter.parse(quarter), CATALOGUE, RraiConfig(threshold=threshold))
        got = counts_from_rows(r.to_json() for r in report.rows)
        assert got == STORIES.expected_counts(quarter, threshold), quarter
        for row in report.rows:
            suppressed += len(row.suppressed)
            shown += sum(1 for x in (row.applied, row.granted, row.refused, row.departed) if x)
    assert shown > 0
    assert (suppressed > 0) == (threshold > 1), "the history has small and large cells"


def test_files_are_the_same_bytes_on_a_second_run(tmp_path) -> None:
    quarter = Quarter.parse(STORIES.quarters()[4])
    first = write_report(build_report(USAGE, quarter, CATALOGUE, RraiConfig()), tmp_path / "a")
    again = fold_usage(list(reversed(STORIES.events)))
    second = write_report(build_report(again, quarter, CATALOGUE, RraiConfig()), tmp_path / "b")
    assert [p.name for p in first] == [f"rrai-usage-{quarter}.json", f"rrai-usage-{quarter}.csv"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    doc = json.loads(first[0].read_bytes())
    assert doc["quarter"] == str(quarter)
    assert [p["reference"] for p in doc["programmes"]] == ["NL-AVRR-2026", "NL-DETENTION-2026"]
    csv_lines = first[1].read_text().splitlines()
    assert len(csv_lines) == len(doc["rows"]) + 1
