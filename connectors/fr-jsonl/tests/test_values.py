"""Amounts, partial dates and timestamps: the values JSON has no type for."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from gw_connector_fr_jsonl.values import (
    check_amount,
    check_partial_date,
    format_amount,
    format_partial_date,
    format_timestamp,
    to_amount,
    to_partial_date,
    to_utc,
)

from gateway.events import models as m

P = m.DatePrecision


@pytest.mark.parametrize("text", ["0.00", "0.05", "420.00", "1500.50", "9999999999.99"])
def test_amounts_as_strings_with_two_decimals(text: str) -> None:
    assert check_amount(text) == text
    assert to_amount(text) == Decimal(text)
    assert format_amount(to_amount(text)) == text


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("420,00", "decimal comma"),
        ("1 200,00", "decimal comma"),
        ("420", "two decimals"),
        ("420.5", "two decimals"),
        ("420.001", "two decimals"),
        ("-50.00", "amount '-50.00' is negative"),
        ("-200,00", "amount '-200,00' is negative"),  # the sign is named before the decimal comma
        ("\N{MINUS SIGN}200.00", "is negative"),
        (" -1 200,00", "is negative"),
        ("+50.00", "two decimals"),
        ("0420.00", "two decimals"),
        ("1e3", "two decimals"),
        ("10000000000.00", "two decimals"),  # 11 digits before the point: over the canonical precision
        (" 420.00", "two decimals"),
        ("", "two decimals"),
        (420.001, "not the number 420.001"),
        (420.5, "not the number 420.5"),
        (420, "not the number 420"),
        (-200.0, "not the number -200.0 .* never negative"),
        (float("inf"), "not the number inf"),
        (True, "JSON string"),
        (None, "JSON string"),
    ],
)
def test_other_amounts_are_refused(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_amount(value)


def test_format_amount_pads_to_cents_and_refuses_what_the_format_cannot_hold() -> None:
    assert format_amount(Decimal(42050) / 100) == "420.50"
    assert format_amount(Decimal(42000) / 100) == "420.00"
    with pytest.raises(ValueError, match="sub-cent"):
        format_amount(Decimal("0.001"))
    with pytest.raises(ValueError, match="negative"):
        format_amount(Decimal("-1.00"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-07-15", m.PartialDate(year=1990, month=7, day=15, precision=P.DAY)),
        ("1990-07", m.PartialDate(year=1990, month=7, precision=P.MONTH)),
        ("1990", m.PartialDate(year=1990, precision=P.YEAR)),
        (None, m.PartialDate(precision=P.UNKNOWN)),
        ("2000-02-29", m.PartialDate(year=2000, month=2, day=29, precision=P.DAY)),
    ],
)
def test_partial_dates(text: str | None, expected: m.PartialDate) -> None:
    assert check_partial_date(text) == text
    assert to_partial_date(text) == expected
    assert format_partial_date(expected) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1990-00-00", "month out of range"),
        ("1990-00", "month out of range"),
        ("1990-13", "month out of range"),
        ("1990-07-00", "no such day"),
        ("1990-02-29", "no such day"),
        ("1990-04-31", "no such day"),
        ("0000", "year 0000"),
        ("90", "expected YYYY"),
        ("15/07/1990", "expected YYYY"),
        ("1990-7-15", "expected YYYY"),
        ("1990-07-15T00:00:00", "expected YYYY"),
        ("", "expected YYYY"),
        ("\uff11\uff19\uff19\uff10", "expected YYYY"),  # full-width digits: \d would take them, the format does not
    ],
)
def test_impossible_or_misspelt_partial_dates_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_partial_date(text)


def test_format_partial_date_refuses_inconsistent_precision() -> None:
    with pytest.raises(ValueError, match="precision"):
        format_partial_date(m.PartialDate(year=1990, precision=P.DAY))


def test_timestamps_become_utc_at_millisecond_precision() -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2026, 3, 5, 0, 30, 15, 123456, tzinfo=paris)
    utc = to_utc(local)
    assert utc == dt.datetime(2026, 3, 4, 22, 30, 15, 123000, tzinfo=dt.UTC)
    assert utc.tzinfo is dt.UTC


def test_timestamps_out_of_range_in_utc_are_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        to_utc(dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    with pytest.raises(ValueError, match="out of range"):
        to_utc(dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-1))))


def test_timestamps_are_written_as_local_time_with_offset() -> None:
    moment = dt.datetime(2026, 3, 4, 22, 30, tzinfo=dt.UTC)
    assert format_timestamp(moment, dt.timezone(dt.timedelta(hours=2))) == "2026-03-05T00:30:00+02:00"
    assert format_timestamp(moment, dt.UTC) == "2026-03-04T22:30:00Z"
    assert format_timestamp(moment.replace(microsecond=5000), dt.UTC) == "2026-03-04T22:30:00.005Z"
