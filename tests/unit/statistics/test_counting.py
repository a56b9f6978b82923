"""Counting rules against the generated history's truth, and each edge case on its own."""

from __future__ import annotations

import datetime as dt
import random
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import ConfigError
from gateway.events import models as m
from gateway.samples.statistics_stories import KINDS, StatisticsStories, statistics_stories
from gateway.statistics.config import StatisticsConfig, load_statistics_config
from gateway.statistics.facts import fold
from gateway.statistics.tables import Period, count, quarters_between, round_to

EXACT = StatisticsConfig(rounding=1)


@cache
def stories() -> StatisticsStories:
    return statistics_stories(3 * len(KINDS) * 4, seed=3)


def tables_of(events: list[m.CaseEvent], period: str, config: StatisticsConfig = EXACT) -> dict[str, dict]:
    return {n: t.cells for n, t in count(fold(events), Period.parse(period), config).tables.items()}


def expected(cells: dict[str, dict], period: str) -> dict[str, dict]:
    got = cells.get(period, {})
    return {n: dict(sorted(got.get(n, {}).items())) for n in ("ordered", "returned", "ordered_uam", "returned_uam")}


def test_every_period_equals_the_truth() -> None:
    s = stories()
    facts = fold(s.events)
    assert len(s.periods) == 15
    for period in s.periods:
        got = {n: t.cells for n, t in count(facts, Period.parse(period), EXACT).tables.items()}
        assert got == expected(s.expected, period), period


def test_the_late_event_changes_its_quarter_and_year_only() -> None:
    s = stories()
    facts = fold(s.events + s.late_events)
    changed = []
    for period in s.periods:
        got = {n: t.cells for n, t in count(facts, Period.parse(period), EXACT).tables.items()}
        assert got == expected(s.expected_after_late, period), period
        if expected(s.expected, period) != got:
            changed.append(period)
    assert changed == ["2026-Q1", "2026"]


def _person(kind: str) -> list[m.CaseEvent]:
    s = stories()
    key = next(k for k, v in s.kind_of.items() if v == kind)
    return [e for e in s.events if e.subject_key == key]


def _total(tables: dict[str, dict], name: str) -> int:
    return sum(tables[name].values())


def _period_of(events: list[m.CaseEvent]) -> str:
    day = events[0].occurred_at.date()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def test_returned_twice_in_a_quarter_counts_once_with_the_first_return() -> None:
    events = _person("returned-twice-in-quarter")
    departures = [e.payload for e in events if isinstance(e.payload, m.DepartureConfirmed)]
    assert len(departures) == 2
    t = tables_of(events, _period_of(events))
    assert _total(t, "returned") == 1
    assert _total(t, "ordered") == 1
    ((key, _),) = t["returned"].items()
    first = min(departures, key=lambda d: d.departed_at)
    assert key[5] == EXACT.structure.return_type_codes[str(first.return_type)]
    last = StatisticsConfig(rounding=1, breakdown_return="last")
    ((key_last, _),) = tables_of(events, _period_of(events), last)["returned"].items()
    second = max(departures, key=lambda d: d.departed_at)
    assert key_last[5:] == (
        last.structure.return_type_codes[str(second.return_type)],
        last.structure.assistance_codes["assisted" if second.assisted else "non_assisted"],
        last.structure.citizen(second.destination_country),
    )


def test_turning_18_in_the_quarter_counts_at_the_reference_date() -> None:
    events = _person("turns-18")
    period = _period_of(events)
    t = tables_of(events, period)
    assert {k[4] for k in t["ordered"]} == {"Y18-34"}
    assert {k[4] for k in t["ordered_uam"]} == {"Y18-34"}  # flagged unaccompanied at the decision
    start = StatisticsConfig(rounding=1, age_reference="period_start")
    assert {k[4] for k in tables_of(events, period, start)["ordered"]} == {"Y14-17"}


@pytest.mark.parametrize("kind", ["eu-national", "dual-eu-national", "departure-without-decision"])
def test_persons_in_no_table(kind: str) -> None:
    events = _person(kind)
    for period in (_period_of(events), str(events[0].occurred_at.year)):
        assert all(not cells for cells in tables_of(events, period).values())


@pytest.mark.parametrize("kind", ["dublin-transfer", "no-evidence", "withdrawn"])
def test_ordered_but_not_returned(kind: str) -> None:
    events = _person(kind)
    t = tables_of(events, _period_of(events))
    assert _total(t, "ordered") == 1
    assert _total(t, "returned") == 0


def test_unknowns_are_their_own_class() -> None:
    events = _person("unknowns")
    t = tables_of(events, _period_of([e for e in events if isinstance(e.payload, m.DepartureConfirmed)]))
    ((key, n),) = t["returned"].items()
    assert n == 1
    assert key[3:5] == ("UNK", "UNK")
    assert key[5] == "UNK"
    assert key[7] == "UNK"
    assert key[2] in {"UNK", "STLS"}


def test_returns_in_two_quarters_count_once_in_the_year() -> None:
    events = _person("returns-in-two-quarters")
    year = str(events[0].occurred_at.year)
    q1, q3 = tables_of(events, f"{year}-Q1"), tables_of(events, f"{year}-Q3")
    assert _total(q1, "returned") == 1
    assert _total(q3, "returned") == 1
    annual = tables_of(events, year)
    assert _total(annual, "returned") == 1
    assert _total(annual, "ordered") == 1
    assert next(iter(annual["returned"]))[5:] == next(iter(q1["returned"]))[5:]


def test_excluded_citizenships_are_configuration() -> None:
    events = _person("eu-national")
    period = _period_of(events)
    config = StatisticsConfig(rounding=1, excluded_citizenships=frozenset())
    assert _total(tables_of(events, period, config), "ordered") == 1


def test_evidence_rule_is_configuration() -> None:
    events = _person("ordered-returned")
    period = _period_of([e for e in events if isinstance(e.payload, m.DepartureConfirmed)])
    assert _total(tables_of(events, period), "returned") == 1
    narrow = StatisticsConfig(rounding=1, counted_evidence=frozenset({"CONSULAR_CONFIRMATION"}))
    assert _total(tables_of(events, period, narrow), "returned") == 0


@pytest.mark.parametrize(
    ("value", "step", "rounded"), [(0, 5, 0), (2, 5, 0), (3, 5, 5), (7, 5, 5), (8, 5, 10), (12, 5, 10), (7, 1, 7)]
)
def test_rounding(value: int, step: int, rounded: int) -> None:
    assert round_to(value, step) == rounded


def test_published_figures_are_rounded_exact_ones_are_not() -> None:
    s = stories()
    table = count(fold(s.events), Period.parse("2025"), StatisticsConfig()).tables["ordered"]
    assert any(v % 5 for v in table.cells.values())
    assert all(v % 5 == 0 for v in table.published(5).values())


def test_periods() -> None:
    q = Period.parse("2024-Q1")
    assert (q.start, q.end, q.freq) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31), "Q")
    assert Period.parse("2026").end == dt.date(2026, 12, 31)
    assert [p.label for p in quarters_between("2024-Q3", "2025-Q2")] == ["2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2"]
    for bad in ("2026-Q5", "26", "2026Q1"):
        with pytest.raises(ConfigError):
            Period.parse(bad)


def test_config_file(tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('rounding = 1\n[structure]\nagency = "XX"\n[structure.sex_codes]\nMALE = "1"\nFEMALE = "2"\n')
    config = load_statistics_config(path)
    assert config.rounding == 1
    assert config.structure.agency == "XX"
    assert config.structure.sex_codes["MALE"] == "1"
    path.write_text("rounding = 0\n")
    with pytest.raises(ConfigError):
        load_statistics_config(path)


def test_partial_birth_dates() -> None:
    s = EXACT.structure
    assert s.age(17, 18) == "UNK"
    assert s.age(20, 21) == "Y18-34"
    assert s.age(None, None) == "UNK"


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_tables_do_not_depend_on_event_order_or_duplicates(rnd: random.Random) -> None:
    s = stories()
    events = list(s.events[:400])
    shuffled = events + rnd.sample(events, 40)  # redelivered events
    rnd.shuffle(shuffled)
    a, b = fold(events), fold(shuffled)
    for period in ("2024", "2025", "2024-Q2", "2025-Q3"):
        assert count(a, Period.parse(period), EXACT) == count(b, Period.parse(period), EXACT)
