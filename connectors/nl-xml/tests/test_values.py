"""Scalar conversions: partial dates, local times around midnight and DST, amounts, flags."""

import datetime as dt
from decimal import Decimal

import pytest
from gw_connector_nl_xml import values as v

from gateway.connectors.values import AmbiguousLocalTime, parse_date
from gateway.events import models as m

P = m.DatePrecision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-07-15", m.PartialDate(year=1990, month=7, day=15, precision=P.DAY)),
        ("1990-07-00", m.PartialDate(year=1990, month=7, precision=P.MONTH)),
        ("1990-00-00", m.PartialDate(year=1990, precision=P.YEAR)),
        ("0000-00-00", m.PartialDate(precision=P.UNKNOWN)),
        ("2024-02-29", m.PartialDate(year=2024, month=2, day=29, precision=P.DAY)),
    ],
)
def test_partial_dates_round_trip(text: str, expected: m.PartialDate) -> None:
    assert v.parse_partial_date(text) == expected
    assert v.format_partial_date(expected) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1990-00-15", "day but no month"),
        ("0000-07-00", "no year"),
        ("0000-00-15", "no year"),
        ("1990-13-00", "month 13"),
        ("2023-02-29", "not a calendar date"),
        ("1990-7-1", "not a date"),
        ("19900715", "not a date"),
    ],
)
def test_bad_partial_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        v.parse_partial_date(text)


@pytest.mark.parametrize("text", ["2025-02-30", "20250304", "2025-W10-2", "2025-03-04T10:00:00", "", "2025-3-04"])
def test_bad_dates(text: str) -> None:
    # Dates are read by the shared reader in its default form; the XSD fixes that form before it.
    with pytest.raises(ValueError, match=r"Besluitdatum: .* not a"):
        parse_date(text, "Besluitdatum")


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # winter (CET, UTC+1): just after local midnight is still the previous day in UTC
        ("2025-01-01T00:30:00", dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.UTC)),
        ("2025-01-01T00:59:59", dt.datetime(2024, 12, 31, 23, 59, 59, tzinfo=dt.UTC)),
        ("2025-01-01T01:00:00", dt.datetime(2025, 1, 1, 0, 0, tzinfo=dt.UTC)),
        ("2024-12-31T23:59:59", dt.datetime(2024, 12, 31, 22, 59, 59, tzinfo=dt.UTC)),
        # summer (CEST, UTC+2): two hours back, across midnight and across a month end
        ("2025-07-01T01:00:00", dt.datetime(2025, 6, 30, 23, 0, tzinfo=dt.UTC)),
        ("2025-07-01T02:00:00", dt.datetime(2025, 7, 1, 0, 0, tzinfo=dt.UTC)),
        ("2025-06-30T23:59:00", dt.datetime(2025, 6, 30, 21, 59, tzinfo=dt.UTC)),
        # the day clocks go forward: 01:59 is CET, 03:00 is CEST
        ("2025-03-30T01:59:00", dt.datetime(2025, 3, 30, 0, 59, tzinfo=dt.UTC)),
        ("2025-03-30T03:00:00", dt.datetime(2025, 3, 30, 1, 0, tzinfo=dt.UTC)),
        # the day clocks go back: 02:30 happens twice and is read as the first (summer) occurrence
        ("2025-10-26T02:30:00", dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)),
        ("2025-10-26T03:00:00", dt.datetime(2025, 10, 26, 2, 0, tzinfo=dt.UTC)),
    ],
)
def test_local_times_convert_to_utc(local: str, utc: dt.datetime) -> None:
    got = v.parse_local_datetime(local, "Tijdstip").utc
    assert got == utc
    assert got.tzinfo is dt.UTC
    assert v.format_local_datetime(utc) == local


def test_local_time_in_the_spring_gap_does_not_exist() -> None:
    with pytest.raises(ValueError, match="does not exist in Europe/Amsterdam"):
        v.parse_local_datetime("2025-03-30T02:30:00", "Tijdstip")


@pytest.mark.parametrize(
    ("policy", "utc"),
    [
        ("earlier", dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)),
        ("later", dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)),
    ],
)
def test_repeated_autumn_hour_is_read_by_policy_with_a_warning(policy: AmbiguousLocalTime, utc: dt.datetime) -> None:
    got = v.parse_local_datetime("2025-10-26T02:30:00", "Gebeurtenis/Tijdstip", policy)
    assert got.utc == utc
    assert got.warning is not None
    assert (got.warning.rule_id, got.warning.path) == ("CN-DST-001", "Gebeurtenis/Tijdstip")


def test_repeated_autumn_hour_is_refused_on_request() -> None:
    with pytest.raises(ValueError, match="occurs twice in Europe/Amsterdam"):
        v.parse_local_datetime("2025-10-26T02:30:00", "Tijdstip", "reject")


def test_second_occurrence_of_autumn_hour_cannot_be_written() -> None:
    second = dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)  # 02:30 CET, after the clocks went back
    with pytest.raises(ValueError, match="cannot be written"):
        v.format_local_datetime(second)


@pytest.mark.parametrize(
    "text", ["2025-03-04T10:15:00Z", "2025-03-04T10:15:00+01:00", "2025-03-04T10:15", "2025-03-04 10:15:00", "x"]
)
def test_local_times_refuse_offsets_and_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="without offset"):
        v.parse_local_datetime(text, "Tijdstip")


@pytest.mark.parametrize(
    ("text", "amount"), [("0.00", Decimal(0)), ("1234.50", Decimal("1234.5")), ("9.99", Decimal("9.99"))]
)
def test_amounts(text: str, amount: Decimal) -> None:
    assert v.parse_amount(text, "Bedrag") == amount
    assert v.format_amount(amount) == text


@pytest.mark.parametrize("text", ["1234,50", "1.234,50", "1,234.50", "12.5", "12", "EUR 1.00", "1e3", "1 234.50"])
def test_amounts_need_a_decimal_point_and_two_decimals(text: str) -> None:
    expected = r"^Onderdeel\[1\]/Bedrag: .* is not an amount like 1234\.50 \(decimal point, exactly two decimals"
    with pytest.raises(ValueError, match=expected):
        v.parse_amount(text, "Onderdeel[1]/Bedrag")


@pytest.mark.parametrize("text", ["-200.00", "-200,00", " -1.00", "\N{MINUS SIGN}5.00", "-0.00"])
def test_a_negative_amount_is_called_negative(text: str) -> None:
    with pytest.raises(ValueError, match=r"^Bedrag: .* is negative; amounts are written without a sign$"):
        v.parse_amount(text, "Bedrag")


def test_amounts_the_format_cannot_carry() -> None:
    for bad in (Decimal("1.005"), Decimal("-1"), Decimal("12345678901.00")):
        with pytest.raises(ValueError, match="amount"):
            v.format_amount(bad)


def test_flags_and_counts() -> None:
    assert (v.parse_flag("J"), v.parse_flag("N")) == (True, False)
    assert (v.format_flag(True), v.format_flag(False)) == ("J", "N")
    for bad in ("j", "Y", "ja", ""):
        with pytest.raises(ValueError, match="J or N"):
            v.parse_flag(bad)
    assert v.parse_count("030") == 30
    for bad in ("-1", "1.5", "", "٣"):
        with pytest.raises(ValueError, match="whole number"):
            v.parse_count(bad)
