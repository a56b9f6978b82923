import datetime as dt
import random

import pytest

from gateway.adapters.rrai import Quarter, RraiConfig, fold_usage, usage_rows
from gateway.adapters.rrai.usage import Measure, count_cells, suppress
from gateway.events import models as m
from gateway.validation.programmes import ProgrammeCatalogue, example_programmes_path, load_programmes
from tests.unit.adapters.rrai.events import ARD, F, S, T, applied, comp, decision, departed, granted, refused

Q1, Q2 = Quarter.parse("2026-Q1"), Quarter.parse("2026-Q2")
CATALOGUE = load_programmes(example_programmes_path())
OPEN = RraiConfig(threshold=1)  # no suppression: the counts themselves
JAN, FEB, MAR = dt.date(2026, 1, 10), dt.date(2026, 2, 10), dt.date(2026, 3, 10)
APR = dt.date(2026, 4, 10)


def cells(events: list[m.CaseEvent], quarter: Quarter = Q1) -> dict[tuple[str, ...], dict[str, int]]:
    """Cell (country, type, form, level, stage) -> the non-zero counts."""
    counted = count_cells(fold_usage(events), quarter, OPEN)
    return {
        (k[2], str(k[3]), str(k[4]), k[5], str(k[6])): {str(x): n for x, n in v.items() if n}
        for k, v in counted.items()
    }


TRAVEL = ("TRAVEL", "IN_KIND", "<500", "AFTER_RETURN_DECISION")


def test_a_person_applying_twice_in_a_quarter_counts_once() -> None:
    events = [decision("a", JAN), applied("a", JAN, comp()), applied("a", MAR, comp())]
    events += [decision("b", JAN), applied("b", FEB, comp())]
    assert cells(events) == {("MAR", *TRAVEL): {"applied": 2}}


def test_granted_in_q1_departing_in_q2_counts_in_each_quarter() -> None:
    events = [decision("a", JAN), applied("a", JAN, comp()), granted("a", FEB, comp()), departed("a", APR)]
    assert cells(events, Q1) == {("MAR", *TRAVEL): {"applied": 1, "granted": 1}}
    assert cells(events, Q2) == {("MAR", *TRAVEL): {"departed": 1}}


def test_a_refusal_counts_under_the_components_applied_for() -> None:
    cash = comp(T.PRE_DEPARTURE_CASH, F.CASH, "2500.00")
    events = [decision("a", JAN), applied("a", JAN, comp(), cash), refused("a", FEB)]
    want = {"applied": 1, "refused": 1}
    assert cells(events) == {
        ("MAR", *TRAVEL): want,
        ("MAR", "PRE_DEPARTURE_CASH", "CASH", ">=2000", "AFTER_RETURN_DECISION"): want,
    }


def test_a_refusal_after_a_grant_withdraws_it_so_the_departure_is_not_the_programmes() -> None:
    events = [decision("a", JAN), granted("a", JAN, comp()), refused("a", FEB), departed("a", MAR)]
    assert cells(events) == {("MAR", *TRAVEL): {"granted": 1, "refused": 1}}


@pytest.mark.parametrize(
    "departure",
    [departed("a", MAR, assisted=False), departed("a", MAR, dublin=True)],
    ids=["unassisted", "dublin-transfer"],
)
def test_a_departure_without_assistance_is_not_departed(departure: m.CaseEvent) -> None:
    events = [decision("a", JAN), granted("a", JAN, comp()), departure]
    assert cells(events) == {("MAR", *TRAVEL): {"granted": 1}}


def test_an_assisted_departure_without_a_grant_is_no_programmes_departure() -> None:
    events = [decision("a", JAN), applied("a", JAN, comp()), departed("a", MAR, "TUN")]
    assert cells(events) == {("MAR", *TRAVEL): {"applied": 1}}


def test_a_grant_is_used_up_by_its_departure() -> None:
    events = [decision("a", JAN), granted("a", JAN, comp()), departed("a", dt.date(2026, 3, 31)), departed("a", APR)]
    assert cells(events, Q1) == {("MAR", *TRAVEL): {"granted": 1, "departed": 1}}
    assert cells(events, Q2) == {}


def test_a_departure_counts_under_every_standing_grant_with_its_stage() -> None:
    det = comp(T.PRE_DEPARTURE_CASH, F.CASH, "100.00")
    events = [
        granted("a", JAN, comp()),
        granted("a", JAN, det, programme="NL-DETENTION-2026", stage=S.DETENTION),
        departed("a", FEB, "GEO"),
    ]
    counted = count_cells(fold_usage(events), Q1, OPEN)
    departed_in = sorted((k[1], str(k[6])) for k, v in counted.items() if v[Measure.DEPARTED])
    assert departed_in == [("NL-AVRR-2026", "AFTER_RETURN_DECISION"), ("NL-DETENTION-2026", "DETENTION")]


def test_country_the_departures_destination_wins_over_the_decision_for_the_whole_quarter() -> None:
    events = [
        decision("a", JAN, "MAR"),
        applied("a", JAN, comp()),
        granted("a", FEB, comp()),
        departed("a", MAR, "SEN"),
    ]
    assert cells(events) == {("SEN", *TRAVEL): {"applied": 1, "granted": 1, "departed": 1}}


def test_country_from_the_latest_decision_up_to_the_quarters_end() -> None:
    events = [
        applied("a", JAN, comp()),
        decision("a", FEB, "MAR"),
        decision("a", MAR, "DZA"),
        decision("a", APR, "GEO"),  # after the quarter: does not count back
        applied("b", JAN, comp()),
        decision("b", APR, "GEO"),
        applied("c", JAN, comp()),
        decision("c", JAN, None),  # a decision naming no country
        granted("d", JAN, comp()),
        departed("d", FEB, None),  # a departure to an unknown destination: the decision's country stands
        decision("d", JAN, "IRQ"),
    ]
    assert cells(events) == {
        ("DZA", *TRAVEL): {"applied": 1},
        ("UNKNOWN", *TRAVEL): {"applied": 2},
        ("IRQ", *TRAVEL): {"granted": 1, "departed": 1},
    }
    assert cells(events, Q2) == {}


def test_components_each_give_a_cell_and_none_named_gives_the_unknown_one() -> None:
    events = [
        decision("a", JAN),
        applied("a", JAN, comp(T.COUNSELLING, F.IN_KIND, None), comp(T.REINTEGRATION_CASH, F.CASH, "500.00")),
        applied("b", JAN),
        decision("b", JAN),
    ]
    assert cells(events) == {
        ("MAR", "COUNSELLING", "IN_KIND", "unknown", "AFTER_RETURN_DECISION"): {"applied": 1},
        ("MAR", "REINTEGRATION_CASH", "CASH", "500-1999.99", "AFTER_RETURN_DECISION"): {"applied": 1},
        ("MAR", "UNKNOWN", "UNKNOWN", "unknown", "AFTER_RETURN_DECISION"): {"applied": 1},
    }


def test_the_stage_of_each_fact_is_its_own() -> None:
    events = [
        decision("a", JAN),
        applied("a", JAN, comp(), stage=S.ASYLUM_PROCEDURE),
        granted("a", FEB, comp(), stage=ARD),
    ]
    assert cells(events) == {
        ("MAR", "TRAVEL", "IN_KIND", "<500", "ASYLUM_PROCEDURE"): {"applied": 1},
        ("MAR", *TRAVEL): {"granted": 1},
    }


def test_persons_of_different_member_states_are_different_persons() -> None:
    from tests.unit.adapters.rrai.events import event

    payload = applied("a", JAN, comp()).payload
    events = [event("a", payload, JAN, ms="NL"), event("a", payload, JAN, ms="DE")]
    counted = count_cells(fold_usage(events), Q1, OPEN)
    assert sorted((k[0], v[Measure.APPLIED]) for k, v in counted.items()) == [("DE", 1), ("NL", 1)]


def test_the_result_does_not_depend_on_the_order_events_arrive_in() -> None:
    events = [
        decision("a", JAN),
        applied("a", JAN, comp()),
        granted("a", FEB, comp()),
        refused("a", FEB + dt.timedelta(days=1)),
        granted("a", FEB + dt.timedelta(days=2), comp(amount="900.00")),
        departed("a", MAR),
    ]
    want = count_cells(fold_usage(events), Q1, OPEN)
    for seed in range(5):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert count_cells(fold_usage(shuffled), Q1, OPEN) == want
    departed_levels = [k[5] for k, v in want.items() if v[Measure.DEPARTED]]
    assert departed_levels == ["500-1999.99"], "the departure uses the standing (second) grant"


def test_suppression() -> None:
    assert [suppress(n, 5) for n in (0, 1, 4, 5, 6)] == [0, None, None, 5, 6]
    assert [suppress(n, 1) for n in (0, 1)] == [0, 1]


def _five_applied_two_granted() -> list[m.CaseEvent]:
    events = [decision(p, JAN) for p in "abcde"] + [applied(p, JAN, comp()) for p in "abcde"]
    return events + [granted(p, FEB, comp()) for p in "ab"]


def test_rows_suppress_small_counts_with_a_flag_and_keep_zeros() -> None:
    (row,) = usage_rows(fold_usage(_five_applied_two_granted()), Q1, CATALOGUE, RraiConfig())
    assert (row.applied, row.granted, row.refused, row.departed) == (5, None, 0, 0)
    assert row.suppressed == ("granted",)
    (row,) = usage_rows(fold_usage(_five_applied_two_granted()), Q1, CATALOGUE, RraiConfig(threshold=6))
    assert (row.applied, row.granted, row.suppressed) == (None, None, ("applied", "granted"))


def test_rows_carry_the_catalogue_data() -> None:
    (row,) = usage_rows(fold_usage(_five_applied_two_granted()), Q1, CATALOGUE, RraiConfig())
    assert row.in_catalogue
    assert row.programme_name == "Assisted voluntary return and reintegration 2026"
    assert row.organisations == ("IOM Netherlands", "Partner Maroc Reintegration")
    assert row.eligible_groups == ("ASYLUM_APPLICANTS", "REJECTED_APPLICANTS", "IRREGULARLY_STAYING")
    assert row.programme_stages == ("ASYLUM_PROCEDURE", "AFTER_NEGATIVE_ASYLUM_DECISION", "AFTER_RETURN_DECISION")
    assert (row.programme_max_total_eur, row.offered_forms, row.offered_max_amount_eur) == (
        "5000.00",
        ("IN_KIND",),
        "1000.00",
    )
    assert (row.quarter, row.member_state, row.country_of_return, row.level) == ("2026-Q1", "NL", "MAR", "<500")


def test_unlisted_programmes_are_flagged_or_dropped() -> None:
    events = [decision("a", JAN), applied("a", JAN, comp(), programme="XX-UNLISTED")]
    (row,) = usage_rows(fold_usage(events), Q1, CATALOGUE, OPEN)
    assert (row.in_catalogue, row.programme_name, row.organisations, row.offered_forms) == (False, None, (), ())
    assert usage_rows(fold_usage(events), Q1, CATALOGUE, RraiConfig(include_unlisted=False)) == ()
    assert usage_rows(fold_usage(events), Q1, ProgrammeCatalogue(), OPEN)[0].programme_reference == "XX-UNLISTED"


def test_events_read_counts_only_relevant_events() -> None:
    other = m.EntryRecorded(entered_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), border_crossing_point="X")
    from tests.unit.adapters.rrai.events import event

    usage = fold_usage([decision("a", JAN), event("a", other, JAN), departed("a", JAN, assisted=False)])
    assert usage.events_read == 2
    assert usage.facts == ()


def test_amount_band_edge_is_in_the_upper_band() -> None:
    events = [decision("a", JAN), applied("a", JAN, comp(amount="2000.00")), applied("b", JAN, comp(amount="1999.99"))]
    levels = sorted(k[5] for k in count_cells(fold_usage(events), Q1, OPEN))
    assert levels == ["500-1999.99", ">=2000"]
