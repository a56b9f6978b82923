"""Boundary tests of the voluntary-departure rules (Directive 2008/115/EC Art. 7; Reg. 2018/1860 Art. 4(1)(x))."""

from __future__ import annotations

import pytest

from gateway.events.models import ExtensionReason, ShortPeriodGround
from gateway.validation.state import CaseState
from tests.unit.validation.support import T, d, engine, ev, paths

VD = "voluntary_departure"
LEN = "payload.voluntary_departure.length_days"


def decision(first: str | None = "2026-03-03", last: str | None = None, length: int | None = None, **more):
    changes = {f"{VD}.first_day": d(first) if first else None, f"{VD}.last_day": d(last) if last else None}
    changes[f"{VD}.length_days"] = length
    changes.update({f"{VD}.{k}": v for k, v in more.items()})
    return ev(T.RETURN_DECISION_ISSUED, changes)


@pytest.mark.parametrize(
    ("last", "length", "ground", "fires"),
    [
        ("2026-03-08", 6, None, True),
        ("2026-03-09", 7, None, False),
        ("2026-04-01", 30, None, False),
        ("2026-04-02", 31, None, True),
        ("2026-04-02", 31, ShortPeriodGround.RISK_OF_ABSCONDING, True),  # a ground never allows more than 30
        ("2026-03-08", 6, ShortPeriodGround.RISK_OF_ABSCONDING, False),
        ("2026-03-08", 6, ShortPeriodGround.UNKNOWN, True),
        ("2026-03-03", 1, ShortPeriodGround.PUBLIC_POLICY_OR_SECURITY_RISK, False),
        ("2026-03-08", None, None, True),  # length from the days: 3-8 March is 6 days
        ("2026-03-09", None, None, False),
        ("2026-04-02", None, None, True),
    ],
)
def test_vd001_length_bounds(last, length, ground, fires):
    event = decision(last=last, length=length, shortened_ground=ground)
    assert paths("VD-001", event) == ([LEN] if fires else [])


def test_vd001_not_granted_is_not_measured():
    event = decision(
        first=None, last=None, length=None, granted=False, shortened_ground=ShortPeriodGround.RISK_OF_ABSCONDING
    )
    assert paths("VD-001", event) == []


@pytest.mark.parametrize(("length", "fires"), [(9, True), (10, False), (20, False), (21, True)])
def test_vd001_configured_bounds(length, fires):
    eng = engine({"rules": {"VD-001": {"params": {"min_days": 10, "max_days": 20}}}})
    assert paths("VD-001", decision(last=None, length=length), eng=eng) == ([LEN] if fires else [])


def test_vd001_counting_without_first_day():
    eng = engine({"settings": {"vd_length_counts_both_ends": False}})
    # 3 March to 2 April: 30 days when the first day is not counted, 31 when it is.
    assert paths("VD-001", decision(last="2026-04-02"), eng=eng) == []
    assert paths("VD-001", decision(last="2026-04-02")) == [LEN]


@pytest.mark.parametrize(
    ("granted", "ground", "fires"),
    [
        (False, None, True),
        (False, ShortPeriodGround.UNKNOWN, True),
        (False, ShortPeriodGround.MANIFESTLY_UNFOUNDED_OR_FRAUDULENT_APPLICATION, False),
        (True, None, False),
    ],
)
def test_vd002_no_period_needs_ground(granted, ground, fires):
    event = ev(T.RETURN_DECISION_ISSUED, {f"{VD}.granted": granted, f"{VD}.shortened_ground": ground})
    assert paths("VD-002", event) == (["payload.voluntary_departure.shortened_ground"] if fires else [])


@pytest.mark.parametrize(
    ("first", "fires"), [("2026-03-01", True), ("2026-03-02", False), ("2026-03-03", False), (None, False)]
)
def test_vd003_first_day_not_before_decision(first, fires):
    # The example decision is dated 2 March 2026.
    event = decision(first=first, last="2026-04-01", length=None)
    assert paths("VD-003", event) == (["payload.voluntary_departure.first_day"] if fires else [])


@pytest.mark.parametrize(("last", "fires"), [("2026-03-02", True), ("2026-03-03", False), ("2026-03-04", False)])
def test_vd004_last_not_before_first(last, fires):
    event = decision(first="2026-03-03", last=last, length=None)
    assert paths("VD-004", event) == (["payload.voluntary_departure.last_day"] if fires else [])


@pytest.mark.parametrize(
    ("both_ends", "length", "fires"),
    [(True, 30, False), (True, 29, True), (True, 31, True), (False, 29, False), (False, 30, True)],
)
def test_vd005_length_matches_days(both_ends, length, fires):
    eng = engine({"settings": {"vd_length_counts_both_ends": both_ends}})
    event = decision(first="2026-03-03", last="2026-04-01", length=length)
    assert paths("VD-005", event, eng=eng) == ([LEN] if fires else [])


def test_vd005_leap_day_span():
    # 2028 is a leap year: 20 February to 1 March counts 29 February.
    event = decision(first="2028-02-20", last="2028-03-01", length=11)
    assert paths("VD-005", event) == []


@pytest.mark.parametrize(
    ("granted", "last", "fires"),
    [(True, None, True), (True, "2026-04-01", False), (False, "2026-04-01", True), (False, None, False)],
)
def test_vd006_last_day_present_when_granted(granted, last, fires):
    event = decision(last=last, granted=granted, shortened_ground=ShortPeriodGround.RISK_OF_ABSCONDING)
    assert paths("VD-006", event) == (["payload.voluntary_departure.last_day"] if fires else [])


def extension(new: str, previous: str | None = "2026-04-01", **more):
    return ev(
        T.VOLUNTARY_DEPARTURE_EXTENDED,
        {"new_last_day": d(new), "previous_last_day": d(previous) if previous else None, **more},
    )


CURRENT = CaseState(decision_reference="IND-RB-2026-000123", departure_granted=True, departure_last_day=d("2026-04-01"))


@pytest.mark.parametrize(
    ("new", "previous", "state", "fires"),
    [
        ("2026-03-31", "2026-04-01", CURRENT, True),
        ("2026-04-01", "2026-04-01", CURRENT, True),
        ("2026-04-02", "2026-04-01", CURRENT, False),
        ("2026-04-01", "2026-04-01", CaseState(), True),  # no state: compare with the event's previous last day
        ("2026-04-02", None, CaseState(), False),  # nothing to compare with
        ("2026-04-10", "2026-04-01", CaseState(decision_reference="R", departure_granted=False), True),
        ("2026-04-05", "2026-03-01", CaseState(departure_last_day=d("2026-04-06")), True),  # state wins
    ],
)
def test_vd007_extension_moves_last_day_later(new, previous, state, fires):
    assert paths("VD-007", extension(new, previous), state=state) == (["payload.new_last_day"] if fires else [])


@pytest.mark.parametrize(
    ("reason", "text", "requires_text", "expected"),
    [
        (ExtensionReason.UNKNOWN, "x", True, ["payload.reason"]),
        (ExtensionReason.OTHER, None, True, ["payload.reason_text"]),
        (ExtensionReason.OTHER, "   ", True, ["payload.reason_text"]),
        (ExtensionReason.OTHER, "medical treatment", True, []),
        (ExtensionReason.OTHER, None, False, []),
        (ExtensionReason.LENGTH_OF_STAY, None, True, []),
    ],
)
def test_vd008_extension_reason(reason, text, requires_text, expected):
    eng = engine({"rules": {"VD-008": {"params": {"other_requires_text": requires_text}}}})
    event = extension("2026-04-22", reason=reason, reason_text=text)
    assert paths("VD-008", event, eng=eng) == expected


@pytest.mark.parametrize(
    ("previous", "state", "fires"),
    [
        ("2026-04-01", CURRENT, False),
        ("2026-03-31", CURRENT, True),
        (None, CURRENT, False),
        ("2026-03-31", CaseState(), False),
    ],
)
def test_vd009_extension_in_sync(previous, state, fires):
    assert paths("VD-009", extension("2026-04-22", previous), state=state) == (
        ["payload.previous_last_day"] if fires else []
    )
