"""Date arithmetic the rules share: partial dates, ages, and instants turned into calendar dates.

The rule that keeps a date from shifting by a day: a ``date`` is a calendar date in the legal calendar of the
case's Member State and is **never** converted through a time zone. A ``datetime`` is an instant; instants are
compared with each other directly (Python compares aware datetimes in UTC). When an instant must be compared with
a date, the instant is turned into the calendar date it falls on in the Member State's time zone
(:func:`local_date`); the date is never turned into an instant.
"""

from __future__ import annotations

import calendar
import datetime as dt
from enum import StrEnum

from gateway.events.models import DatePrecision, PartialDate


class LeapDayBirthday(StrEnum):
    """When someone born on 29 February has a birthday in a common year."""

    MARCH_1 = "MARCH_1"
    FEBRUARY_28 = "FEBRUARY_28"


def local_date(instant: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The calendar date on which ``instant`` falls in ``zone``."""
    return instant.astimezone(zone).date()


# Which parts (year, month, day) each precision says are known.
_KNOWN_PARTS = {
    DatePrecision.DAY: (True, True, True),
    DatePrecision.MONTH: (True, True, False),
    DatePrecision.YEAR: (True, False, False),
    DatePrecision.UNKNOWN: (False, False, False),
}


def partial_date_problem(value: PartialDate, *, min_year: int = 1) -> str | None:
    """Why a partial date is inconsistent, or None when it is consistent.

    Consistent means: ``precision`` names the finest known part and every finer part is null; month is 1-12;
    day exists in that month of that year (29 February only in leap years); the year is at least ``min_year``.
    """
    y, m, d = value.year, value.month, value.day
    expected = _KNOWN_PARTS.get(value.precision)
    if expected is None:
        return f"precision {value.precision} is not a known precision"
    if (y is not None, m is not None, d is not None) != expected:
        return f"precision {value.precision} does not match the known parts (year={y}, month={m}, day={d})"
    if y is not None and not min_year <= y <= dt.MAXYEAR:
        return f"year {y} is out of range (earliest accepted: {min_year})"
    if m is not None and not 1 <= m <= 12:
        return f"month {m} is not between 1 and 12"
    if y is not None and m is not None and d is not None and not 1 <= d <= calendar.monthrange(y, m)[1]:
        return f"day {d} does not exist in {y}-{m:02d}"
    return None


def latest_possible_date(value: PartialDate) -> dt.date | None:
    """The latest calendar date the partial date can stand for; None when the year is unknown or a part is invalid.

    The known parts are used whatever ``precision`` says, so an inconsistent precision does not hide a known day.
    """
    y, m, d = value.year, value.month, value.day
    try:
        if y is None:
            return None
        if m is None:
            return dt.date(y, 12, 31)
        if d is None:
            return dt.date(y, m, calendar.monthrange(y, m)[1])
        return dt.date(y, m, d)
    except (ValueError, OverflowError, calendar.IllegalMonthError):
        return None


def earliest_possible_date(value: PartialDate) -> dt.date | None:
    """The earliest calendar date the partial date can stand for; None when the year is unknown or a part is invalid."""
    y, m, d = value.year, value.month, value.day
    try:
        if y is None:
            return None
        if m is None:
            return dt.date(y, 1, 1)
        return dt.date(y, m, d or 1)
    except (ValueError, OverflowError):
        return None


def anniversary(birth: dt.date, years: int, leap_day: LeapDayBirthday) -> dt.date | None:
    """The date on which someone born on ``birth`` turns ``years`` old; None past the calendar's end."""
    year = birth.year + years
    if year > dt.MAXYEAR:
        return None
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1) if leap_day is LeapDayBirthday.MARCH_1 else dt.date(year, 2, 28)
    return birth.replace(year=year)


def has_reached_age(birth: dt.date, years: int, on: dt.date, leap_day: LeapDayBirthday) -> bool:
    """Whether someone born on ``birth`` is at least ``years`` old on ``on``; one turns N on the birthday itself."""
    birthday = anniversary(birth, years, leap_day)
    return birthday is not None and on >= birthday
