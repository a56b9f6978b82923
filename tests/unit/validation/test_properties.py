"""Property tests: the engine never raises, is deterministic, and disabled rules never fire."""

from __future__ import annotations

import datetime as dt
import types
import typing
from decimal import Decimal
from enum import StrEnum

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

from gateway.events import models as m
from gateway.testing import examples
from gateway.validation import CaseState, ValidationEngine, apply_warnings, default_rules, fold, load_config
from gateway.validation.dates import (
    LeapDayBirthday,
    earliest_possible_date,
    has_reached_age,
    latest_possible_date,
    partial_date_problem,
)
from tests.unit.validation.support import PROGRAMMES

ENGINE = ValidationEngine(load_config({}), PROGRAMMES)
RULE_IDS = [r.id for r in default_rules()]
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5, minutes=-30))])
INSTANTS = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=ZONES)
DATES = st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2031, 12, 31))
TEXT = st.one_of(
    st.sampled_from(
        ["", " ", "MAR", "XXA", "UNO", "D", "DEU", "ZZZ", "NL-AVRR-2026", "IND-RB-2026-000123", "Art. 23(1)"]
    ),
    st.text(max_size=6),
)
AMOUNTS = st.one_of(
    st.decimals(
        min_value=Decimal("-1000"), max_value=Decimal("10000"), places=2, allow_nan=False, allow_infinity=False
    ),
    st.decimals(min_value=Decimal("-10"), max_value=Decimal("10000"), places=0, allow_nan=False, allow_infinity=False),
)


def strategy(annotation: typing.Any) -> st.SearchStrategy[typing.Any]:
    """A strategy for a field of a generated model, derived from its annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return strategy(args[0])
    if origin in (typing.Union, types.UnionType):
        return st.one_of([strategy(a) for a in args])
    if origin is tuple:
        return st.lists(strategy(args[0]), max_size=3).map(tuple)
    if annotation is type(None):
        return st.none()
    if annotation is AwareDatetime:
        return INSTANTS
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return model_strategy(annotation)
        if issubclass(annotation, StrEnum):
            return st.sampled_from(list(annotation))
        if annotation is bool:
            return st.booleans()
        if annotation is int:
            return st.integers(min_value=-3, max_value=3000)
        if annotation is str:
            return TEXT
        if annotation is Decimal:
            return AMOUNTS
        if issubclass(annotation, dt.datetime):
            return INSTANTS
        if issubclass(annotation, dt.date):
            return DATES
    raise TypeError(f"no strategy for {annotation!r}")


def model_strategy(model: type[BaseModel]) -> st.SearchStrategy[typing.Any]:
    fields = {name: strategy(f.annotation) for name, f in model.model_fields.items()}
    return st.fixed_dictionaries(fields).map(model.model_validate)


PAYLOADS = st.sampled_from([t for t in m.EventType if t is not m.EventType.UNKNOWN]).flatmap(
    lambda t: st.tuples(st.just(t), model_strategy(m.PAYLOAD_OF_EVENT_TYPE[str(t)]))
)


@st.composite
def events(draw: st.DrawFn) -> m.CaseEvent:
    event_type, payload = draw(PAYLOADS)
    occurred = draw(INSTANTS)
    return examples.event(event_type).model_copy(
        update={
            "payload": payload,
            "occurred_at": occurred,
            "recorded_at": draw(st.one_of(st.just(occurred), INSTANTS)),
            "member_state": draw(st.sampled_from(list(m.MemberState))),
        }
    )


STATES = st.builds(
    CaseState,
    decision_reference=st.one_of(st.none(), TEXT),
    decision_date=st.one_of(st.none(), DATES),
    departure_granted=st.one_of(st.none(), st.booleans()),
    departure_last_day=st.one_of(st.none(), DATES),
    assistance_applied_on=st.one_of(st.none(), DATES),
    assistance_granted_on=st.one_of(st.none(), DATES),
)
COMMON = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@COMMON
@given(event=events(), state=STATES, now=INSTANTS)
def test_engine_never_raises_and_findings_are_well_formed(event, state, now):
    findings = ENGINE.validate(event, state, now)
    for f in findings:
        assert f.rule_id in RULE_IDS
        assert f.severity in (m.Severity.ERROR, m.Severity.WARNING)
        assert f.path
        assert f.message
        assert "could not be evaluated" not in f.message, f
        assert f.legal_reference


@COMMON
@given(event=events(), state=STATES, now=INSTANTS)
def test_findings_are_deterministic_and_warnings_do_not_feed_back(event, state, now):
    first = ENGINE.validate(event, state, now)
    assert ENGINE.validate(event, state, now) == first
    assert ENGINE.validate(apply_warnings(event, first), state, now) == first


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events(), state=STATES, now=INSTANTS, disabled=st.sets(st.sampled_from(RULE_IDS)))
def test_disabled_rules_never_fire(event, state, now, disabled):
    engine = ValidationEngine(load_config({"rules": {i: {"enabled": False} for i in disabled}}), PROGRAMMES)
    fired = {f.rule_id for f in engine.validate(event, state, now)}
    assert not fired & disabled
    # Switching rules off never changes what the other rules find.
    assert fired == {f.rule_id for f in ENGINE.validate(event, state, now)} - disabled


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(events(), max_size=4))
def test_fold_never_raises_and_is_deterministic(history):
    state = again = CaseState()
    for event in history:
        state = fold(state, event)
    for event in history:
        again = fold(again, event)
    assert state == again


@COMMON
@given(
    year=st.one_of(st.none(), st.integers(1, 9999)),
    month=st.one_of(st.none(), st.integers(-1, 14)),
    day=st.one_of(st.none(), st.integers(-1, 32)),
    precision=st.sampled_from(list(m.DatePrecision)),
)
def test_consistent_partial_dates_have_ordered_bounds(year, month, day, precision):
    value = m.PartialDate(year=year, month=month, day=day, precision=precision)
    if partial_date_problem(value) is None and year is not None:
        earliest, latest = earliest_possible_date(value), latest_possible_date(value)
        assert earliest is not None
        assert latest is not None
        assert earliest <= latest


@COMMON
@given(birth=DATES, on=DATES, later=st.integers(0, 400), rule=st.sampled_from(list(LeapDayBirthday)))
def test_age_is_monotone_in_time(birth, on, later, rule):
    if has_reached_age(birth, 6, on, rule):
        assert has_reached_age(birth, 6, on + dt.timedelta(days=later), rule)
