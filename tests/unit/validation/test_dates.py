"""Tests of the date helpers: partial dates, ages and the calendar date of an instant."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from gateway.events.models import DatePrecision, PartialDate
from gateway.validation.dates import (
    LeapDayBirthday,
    anniversary,
    earliest_possible_date,
    has_reached_age,
    latest_possible_date,
    local_date,
)

D = dt.date


@pytest.mark.parametrize(
    ("y", "m", "d", "latest", "earliest"),
    [
        (1994, 7, 3, D(1994, 7, 3), D(1994, 7, 3)),
        (1994, 7, None, D(1994, 7, 31), D(1994, 7, 1)),
        (2024, 2, None, D(2024, 2, 29), D(2024, 2, 1)),
        (2023, 2, None, D(2023, 2, 28), D(2023, 2, 1)),
        (1994, None, None, D(1994, 12, 31), D(1994, 1, 1)),
        (None, None, None, None, None),
        (1994, 13, None, None, None),
        (2023, 2, 29, None, None),
    ],
)
def test_partial_date_bounds(y, m, d, latest, earliest):
    value = PartialDate(year=y, month=m, day=d, precision=DatePrecision.DAY)
    assert latest_possible_date(value) == latest
    assert earliest_possible_date(value) == earliest


@pytest.mark.parametrize(
    ("birth", "rule", "expected"),
    [
        (D(2020, 2, 29), LeapDayBirthday.MARCH_1, D(2026, 3, 1)),
        (D(2020, 2, 29), LeapDayBirthday.FEBRUARY_28, D(2026, 2, 28)),
        (D(2022, 2, 29 - 1), LeapDayBirthday.MARCH_1, D(2028, 2, 28)),
        (D(2018, 2, 28), LeapDayBirthday.MARCH_1, D(2024, 2, 28)),
    ],
)
def test_anniversary(birth, rule, expected):
    assert anniversary(birth, 6, rule) == expected


def test_anniversary_past_calendar_end():
    assert anniversary(D(9995, 1, 1), 6, LeapDayBirthday.MARCH_1) is None
    assert not has_reached_age(D(9995, 1, 1), 6, D(9999, 12, 31), LeapDayBirthday.MARCH_1)


def test_birthday_counts():
    assert has_reached_age(D(2020, 3, 1), 6, D(2026, 3, 1), LeapDayBirthday.MARCH_1)
    assert not has_reached_age(D(2020, 3, 1), 6, D(2026, 2, 28), LeapDayBirthday.MARCH_1)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        ("2026-03-01T23:30:00+00:00", "Europe/Amsterdam", D(2026, 3, 2)),
        ("2026-03-01T23:30:00+00:00", "Europe/Lisbon", D(2026, 3, 1)),
        ("2026-03-01T22:30:00+00:00", "Europe/Helsinki", D(2026, 3, 2)),
        # Summer time: 22:30 UTC on 28 June is 00:30 on 29 June in Amsterdam (UTC+2).
        ("2026-06-28T22:30:00+00:00", "Europe/Amsterdam", D(2026, 6, 29)),
        ("2026-06-28T21:59:00+00:00", "Europe/Amsterdam", D(2026, 6, 28)),
    ],
)
def test_local_date(instant, zone, expected):
    assert local_date(dt.datetime.fromisoformat(instant), zoneinfo.ZoneInfo(zone)) == expected
