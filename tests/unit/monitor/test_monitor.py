from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.events import models as m
from gateway.monitor import (
    EventTimeClock,
    FileClock,
    MonitorConfig,
    MonitorSubjectState,
    WallClock,
    clock_from_spec,
    deadline_ms,
    fire,
    monitor_step,
    timer_name,
)
from tests.unit.detect.support import d, event, ts

T = m.EventType
CONFIG = MonitorConfig(allowed_lateness_s=3600)
TIMER = timer_name("NL", "DEC-1")


def issued(last_day: str | None, *, suspended: bool = False, granted: bool = True) -> m.CaseEvent:
    vd = {"granted": granted, "first_day": None, "last_day": None if last_day is None else d(last_day)}
    vd.update({"length_days": None, "shortened_ground": None})
    changes = {"decision_reference": "DEC-1", "voluntary_departure": vd, "suspended": suspended}
    changes["enforcement_postponed"] = False
    return event("issued", T.RETURN_DECISION_ISSUED, changes, ts("2026-03-01"))


def extended(new_last_day: str, name: str = "ext") -> m.CaseEvent:
    changes = {"decision_reference": "DEC-1", "new_last_day": d(new_last_day), "previous_last_day": None}
    return event(name, T.VOLUNTARY_DEPARTURE_EXTENDED, changes, ts("2026-03-20"))


def status(value: m.DecisionStatus, name: str = "status") -> m.CaseEvent:
    changes = {"decision_reference": "DEC-1", "status": value, "effective_date": d("2026-03-10")}
    return event(name, T.RETURN_DECISION_STATUS_CHANGED, changes, ts("2026-03-10"))


def departed(decision: str | None = "DEC-1") -> m.CaseEvent:
    changes = {"decision_reference": decision, "departed_at": ts("2026-03-25")}
    return event("departed", T.DEPARTURE_CONFIRMED, changes, ts("2026-03-25"))


def run(*events: m.CaseEvent) -> tuple[MonitorSubjectState, dict[str, int | None]]:
    state, timers = None, {}
    for e in events:
        step = monitor_step(state, e, CONFIG)
        state = step.state
        timers.update({t.name: t.due_ms for t in step.timers})
    assert state is not None
    return state, timers


def test_deadline_is_midnight_after_the_last_day_in_the_member_states_zone():
    # Amsterdam is UTC+1 in winter, UTC+2 in summer; Lisbon is UTC+0 in winter.
    assert deadline_ms(d("2026-01-15"), "NL", CONFIG.zones) == int(ts("2026-01-15T23:00").timestamp() * 1000)
    assert deadline_ms(d("2026-07-15"), "NL", CONFIG.zones) == int(ts("2026-07-15T22:00").timestamp() * 1000)
    assert deadline_ms(d("2026-01-15"), "PT", CONFIG.zones) == int(ts("2026-01-16T00:00").timestamp() * 1000)
    # The night the clocks go forward in the Netherlands (29 March 2026) still ends at local midnight.
    assert deadline_ms(d("2026-03-28"), "NL", CONFIG.zones) == int(ts("2026-03-28T23:00").timestamp() * 1000)
    assert deadline_ms(d("2026-03-29"), "NL", CONFIG.zones) == int(ts("2026-03-29T22:00").timestamp() * 1000)


def test_a_member_state_without_zone_is_a_config_error():
    with pytest.raises(ConfigError, match="XX"):
        deadline_ms(d("2026-01-15"), "XX", {})
    with pytest.raises(ValueError, match="unknown time zones"):
        MonitorConfig(zones={"NL": "Europe/Atlantis"})


def test_a_decision_with_a_period_sets_a_timer_at_its_end_plus_lateness():
    _, timers = run(issued("2026-03-31"))
    assert timers == {TIMER: deadline_ms(d("2026-03-31"), "NL", CONFIG.zones) + 3_600_000}


def test_a_period_given_as_first_day_and_length_ends_on_its_inclusive_last_day():
    e = issued(None)
    vd = e.payload.voluntary_departure.model_copy(update={"first_day": d("2026-03-01"), "length_days": 30})
    e = e.model_copy(update={"payload": e.payload.model_copy(update={"voluntary_departure": vd})})
    state, _ = run(e)
    assert state.decisions[0].last_day == d("2026-03-30")


def test_no_period_means_no_timer():
    state, timers = run(issued(None, granted=False))
    assert timers == {}
    assert state.decisions[0].status == "NO_PERIOD"


def test_an_extension_moves_the_timer():
    _, timers = run(issued("2026-03-31"), extended("2026-04-14"))
    assert timers[TIMER] == deadline_ms(d("2026-04-14"), "NL", CONFIG.zones) + 3_600_000


def test_an_extension_to_an_earlier_or_the_same_day_changes_nothing():
    state, _ = run(issued("2026-03-31"))
    assert monitor_step(state, extended("2026-03-31"), CONFIG).timers == ()


def test_a_suspension_pauses_and_resumption_sets_the_timer_again():
    _, timers = run(issued("2026-03-31"), status(m.DecisionStatus.SUSPENDED))
    assert timers == {TIMER: None}
    state, timers = run(issued("2026-03-31"), status(m.DecisionStatus.SUSPENDED), extended("2026-04-20"))
    assert timers == {TIMER: None}, "an extension while paused moves the day, not the timer"
    assert state.decisions[0].last_day == d("2026-04-20")
    _, timers = run(
        issued("2026-03-31"), status(m.DecisionStatus.SUSPENDED), status(m.DecisionStatus.RESUMED, "resumed")
    )
    assert timers[TIMER] == deadline_ms(d("2026-03-31"), "NL", CONFIG.zones) + 3_600_000


def test_a_decision_issued_suspended_starts_paused():
    state, timers = run(issued("2026-03-31", suspended=True))
    assert state.decisions[0].status == "PAUSED"
    assert timers == {TIMER: None}


@pytest.mark.parametrize(
    "closing",
    [
        status(m.DecisionStatus.WITHDRAWN),
        status(m.DecisionStatus.ANNULLED),
        status(m.DecisionStatus.RESIDENCE_RIGHT_GRANTED),
        departed(),
        departed(None),
    ],
    ids=["withdrawn", "annulled", "residence-right", "departed", "departed-without-decision"],
)
def test_closing_events_cancel_the_timer_for_good(closing):
    state, timers = run(issued("2026-03-31"), closing)
    assert timers == {TIMER: None}
    assert state.decisions[0].status == "DONE"
    assert fire(state, TIMER, "s", ts("2026-05-01"), CONFIG, "1")[1] is None
    assert monitor_step(state, extended("2026-05-01"), CONFIG).timers == ()


def test_a_non_return_recorded_elsewhere_cancels_the_timer():
    changes = {"decision_reference": "DEC-1", "period_last_day": d("2026-03-31")}
    national = event(
        "nr", T.NON_RETURN_RECORDED, {**changes, "source": m.NonReturnSource.NATIONAL_CHECK}, ts("2026-04-02")
    )
    state, timers = run(issued("2026-03-31"), national)
    assert timers == {TIMER: None}
    assert state.decisions[0].status == "DONE"


def test_fire_writes_one_non_return_with_a_fixed_id_and_closes_the_period():
    state, _ = run(issued("2026-03-31"))
    now = ts("2026-04-02")
    after, event_ = fire(state, TIMER, "subject-1", now, CONFIG, "9.9")
    assert event_ is not None
    assert event_.event_type is T.NON_RETURN_RECORDED
    assert event_.payload.source is m.NonReturnSource.MONITOR
    assert event_.payload.period_last_day == d("2026-03-31")
    assert event_.payload.decision_reference == "DEC-1"
    assert event_.case_reference == "NL-CASE-1"
    assert event_.subject_key == "subject-1"
    assert event_.occurred_at == ts("2026-03-31T22:00")
    assert event_.source.connector == "departure-monitor"
    # Redone after a crash: the same event id.
    again = fire(state, TIMER, "subject-1", ts("2026-04-03"), CONFIG, "9.9")[1]
    assert again is not None
    assert again.event_id == event_.event_id
    # Fired once: the decision is done for this period, its own event changes nothing.
    assert fire(after, TIMER, "subject-1", now, CONFIG, "9.9")[1] is None
    assert monitor_step(after, event_, CONFIG).timers == ()


def test_a_late_extension_after_the_fire_watches_the_new_period():
    state, _ = run(issued("2026-03-31"))
    state, _ = fire(state, TIMER, "s", ts("2026-04-02"), CONFIG, "1")
    step = monitor_step(state, extended("2026-04-30"), CONFIG)
    assert step.timers[0].due_ms == deadline_ms(d("2026-04-30"), "NL", CONFIG.zones) + 3_600_000
    again = fire(step.state, TIMER, "s", ts("2026-05-02"), CONFIG, "1")[1]
    assert again is not None
    assert again.payload.period_last_day == d("2026-04-30")


def test_decisions_of_a_subject_are_watched_apart():
    state, _ = run(issued("2026-03-31"))
    other = issued("2026-06-30")
    other = other.model_copy(update={"payload": other.payload.model_copy(update={"decision_reference": "DEC-2"})})
    state = monitor_step(state, other, CONFIG).state
    state = monitor_step(state, departed("DEC-2"), CONFIG).state
    assert {(x.decision_reference, x.status) for x in state.decisions} == {("DEC-1", "OPEN"), ("DEC-2", "DONE")}


def test_clocks(tmp_path: Path):
    assert EventTimeClock().now_ms() is None
    assert abs((WallClock().now_ms() or 0) - dt.datetime.now(dt.UTC).timestamp() * 1000) < 5_000
    path = tmp_path / "clock"
    clock = FileClock(path)
    assert clock.now_ms() is None
    path.write_text("1234")
    assert clock.now_ms() == 1234
    assert isinstance(clock_from_spec(f"file:{path}"), FileClock)
    assert isinstance(clock_from_spec("event"), EventTimeClock)
    with pytest.raises(ConfigError):
        clock_from_spec("sundial")
