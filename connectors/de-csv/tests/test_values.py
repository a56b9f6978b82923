"""Field values: dates (partial, leap days), local times around midnight and DST, amounts, packed lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from gw_connector_de_csv import values as v
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import MappingError

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


# ---- dates ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("01.02.2025", dt.date(2025, 2, 1)), ("29.02.2024", dt.date(2024, 2, 29)), ("31.12.1999", dt.date(1999, 12, 31))],
)
def test_dates(text, expected):
    assert v.parse_date(text, "Datum") == expected
    assert v.format_date(expected) == text


@pytest.mark.parametrize(
    "text",
    [
        "29.02.2025",
        "29.02.1900",
        "31.04.2025",
        "00.01.2025",
        "1.2.2025",
        "2025-02-01",
        " 01.02.2025",
        "01.02.25",
        "\uff10\uff11.02.2025",
        "01/02/2025",
        "32.01.2025",
    ],
)
def test_bad_dates_name_the_column(text):
    with pytest.raises(MappingError, match=r"^Entscheidungsdatum: "):
        v.parse_date(text, "Entscheidungsdatum")


def test_empty_date_is_missing():
    with pytest.raises(MappingError, match="Wirksam_ab is required"):
        v.parse_date("", "Wirksam_ab")
    assert v.optional_date("", "x") is None


def test_leap_day_2000_is_a_date_but_1900_is_not():
    assert v.parse_date("29.02.2000", "x") == dt.date(2000, 2, 29)
    with pytest.raises(MappingError, match="not a calendar date"):
        v.parse_date("29.02.1900", "x")


# ---- partial dates of birth -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("17.07.1990", (1990, 7, 17)),
        ("00.07.1990", (1990, 7, None)),
        ("00.00.1990", (1990, None, None)),
        ("00.00.0000", (None, None, None)),
        ("29.02.1992", (1992, 2, 29)),
        ("00.02.1993", (1993, 2, None)),
    ],
)
def test_partial_dates(text, parts):
    assert v.parse_partial_date(text, "Geburtsdatum") == parts
    assert v.format_partial_date(*parts) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("15.00.1990", "unknown month but a known day"),
        ("00.07.0000", "unknown year but a known month"),
        ("00.13.1990", "no month 13"),
        ("29.02.1993", "not a calendar date"),
        ("7.1990", "not a date"),
        ("", "Geburtsdatum is required"),
    ],
)
def test_impossible_partial_dates(text, reason):
    with pytest.raises(MappingError, match=reason):
        v.parse_partial_date(text, "Geburtsdatum")


# ---- local times ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("19.02.2026 09:30:00", dt.datetime(2026, 2, 19, 8, 30, tzinfo=UTC)),  # CET, UTC+1
        ("19.07.2026 09:30", dt.datetime(2026, 7, 19, 7, 30, tzinfo=UTC)),  # CEST, UTC+2
        # near midnight the UTC date is the day before
        ("01.01.2025 00:30", dt.datetime(2024, 12, 31, 23, 30, tzinfo=UTC)),
        ("01.07.2025 01:59:59", dt.datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)),
        ("31.12.2025 23:59", dt.datetime(2025, 12, 31, 22, 59, tzinfo=UTC)),
        ("01.03.2024 00:00", dt.datetime(2024, 2, 29, 23, 0, tzinfo=UTC)),  # back into a leap day
        # the days the clocks change
        ("30.03.2025 01:59", dt.datetime(2025, 3, 30, 0, 59, tzinfo=UTC)),
        ("30.03.2025 03:00", dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC)),
        ("26.10.2025 02:30", dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),  # twice that night: the first
        ("26.10.2025 03:00", dt.datetime(2025, 10, 26, 2, 0, tzinfo=UTC)),
        ("26.10.2025 00:15", dt.datetime(2025, 10, 25, 22, 15, tzinfo=UTC)),
    ],
)
def test_local_times_become_utc(local, utc):
    got = v.parse_local_datetime(local, "Zeitpunkt", BERLIN).utc
    assert got == utc
    assert got.utcoffset() == dt.timedelta(0)
    assert v.format_local_datetime(got, BERLIN, seconds=len(local) == 19) == local


def test_time_in_the_spring_gap_does_not_exist():
    with pytest.raises(MappingError, match="does not exist in Europe/Berlin"):
        v.parse_local_datetime("30.03.2025 02:30", "Zeitpunkt", BERLIN)


@pytest.mark.parametrize(
    ("policy", "utc"),
    [
        ("earlier", dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC)),
        ("later", dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC)),
    ],
)
def test_repeated_autumn_hour_is_read_by_policy_with_a_warning(policy, utc):
    clock = v.Clock(BERLIN, policy)
    assert clock.utc("26.10.2025 02:30", "Zeitpunkt") == utc
    assert clock.utc("26.10.2025 12:30", "Grenzübertritt") == dt.datetime(2025, 10, 26, 11, 30, tzinfo=UTC)
    assert [(w.rule_id, w.path) for w in clock.warnings] == [("CN-DST-001", "Zeitpunkt")]


def test_repeated_autumn_hour_is_refused_on_request():
    with pytest.raises(MappingError, match="Zeitpunkt: 2025-10-26 02:30:00 occurs twice in Europe/Berlin"):
        v.parse_local_datetime("26.10.2025 02:30", "Zeitpunkt", BERLIN, "reject")


def test_second_occurrence_of_the_autumn_hour_cannot_be_written():
    second = dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET, after the clocks went back
    with pytest.raises(ValueError, match="ambiguous"):
        v.format_local_datetime(second, BERLIN)


def test_every_quarter_hour_of_a_year_round_trips():
    t = dt.datetime(2024, 12, 31, 0, 0, tzinfo=UTC)
    while t.year < 2026:
        local = t.astimezone(BERLIN)
        if not local.fold:
            text = v.format_local_datetime(t, BERLIN)
            assert v.parse_local_datetime(text, "x", BERLIN).utc == t, text
        t += dt.timedelta(minutes=15)


@pytest.mark.parametrize(
    "text",
    [
        "19.02.2026",
        "19.02.2026 9:30",
        "19.02.2026 24:00",
        "19.02.2026 12:60",
        "19.02.2026T09:30",
        "2026-02-19 09:30",
        "19.02.2026 09:30:00.5",
        "19.02.2026 09:30+01:00",
        "31.02.2026 09:30",
        "19.02.2026 0\uff19:30",
        "",
    ],
)
def test_bad_times(text):
    with pytest.raises(MappingError, match="Zeitpunkt"):
        v.parse_local_datetime(text, "Zeitpunkt", BERLIN)


def test_other_time_zones():
    lisbon = ZoneInfo("Europe/Lisbon")
    assert v.parse_local_datetime("15.07.2025 12:00", "x", lisbon).utc == dt.datetime(2025, 7, 15, 11, tzinfo=UTC)


# ---- amounts --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.234,50", "1234.50"),
        ("1234,50", "1234.50"),
        ("0,00", "0.00"),
        ("420,00", "420.00"),
        ("1.000.000,01", "1000000.01"),
        ("9.999.999.999,99", "9999999999.99"),
    ],
)
def test_amounts(text, amount):
    assert v.parse_amount(text, "Betrag_EUR") == Decimal(amount)


@pytest.mark.parametrize(
    "text",
    [
        "1,234.50",
        "12,5",
        "12,500",
        "-5,00",
        "12.50",
        "1.23,00",
        "12,50 EUR",
        " 1,00",
        "1.2345,00",
        "10.000.000.000,00",
        "1_000,00",
        "\uff11,00",
        "",
    ],
)
def test_bad_amounts(text):
    with pytest.raises(MappingError, match="Betrag_EUR"):
        v.parse_amount(text, "Betrag_EUR")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-200,00", "^Leistungen: '-200,00' is negative; amounts are written without a sign$"),
        ("\u2212200,00", "is negative"),
        ("-1.234,50", "is negative"),
        ("12.50", "^Leistungen: '12.50' has a decimal point; write a decimal comma: 12,50$"),
        ("12,5", "is not an amount in the form 1.234,50 \\(exactly two decimals"),
        ("1,234.50", "has a separator after the decimal ','"),
        ("1.23,00", "misplaced thousands separators"),
    ],
)
def test_bad_amounts_say_what_is_wrong(text, reason):
    with pytest.raises(MappingError, match=reason):
        v.parse_amount(text, "Leistungen")


@given(st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2), st.booleans())
def test_amount_spellings_round_trip(amount, thousands):
    text = v.format_amount(amount, thousands=thousands)
    assert v.parse_amount(text, "x") == amount


def test_amounts_the_format_cannot_carry():
    with pytest.raises(ValueError, match="two decimals"):
        v.format_amount(Decimal("1.005"))
    with pytest.raises(ValueError, match="non-negative"):
        v.format_amount(Decimal("-1.00"))


# ---- flags, numbers, countries --------------------------------------------------------------------------------


def test_flags():
    assert v.parse_flag("J", "x") is True
    assert v.parse_flag("N", "x") is False
    assert v.parse_flag_default("", "x") is False
    for bad in ("j", "ja", "1", "Y", ""):
        with pytest.raises(MappingError):
            v.parse_flag(bad, "Ausreisefrist")


def test_whole_numbers():
    assert v.parse_int("30", "x") == 30
    for bad in ("-1", "1.0", "3 ", "1234567", "٣"):
        with pytest.raises(MappingError):
            v.parse_int(bad, "Fristdauer_Tage")


def test_countries_are_handed_on_normalised_not_refused():
    # The shared code list (CD-001) decides: D (MRZ Germany), XKX/RKS (Kosovo), GB/UK are not refused here.
    for text, expected in (("MAR", "MAR"), (" mar ", "MAR"), ("D", "D"), ("XKX", "XKX"), ("RKS", "RKS"), ("uk", "UK")):
        assert v.country(text, "x") == expected
    with pytest.raises(MappingError, match="Zielstaat is required"):
        v.country(" ", "Zielstaat")


# ---- packed lists ---------------------------------------------------------------------------------------------


def test_packed_lists_and_escapes():
    assert v.split_names("", "x") == ()
    assert v.split_names("A|B", "x") == ("A", "B")
    assert v.split_names(r"A\|B|C\\D|E\:F", "x") == ("A|B", "C\\D", "E:F")
    assert v.split_parts(r"Kit\: tools:1.250,00", "Budget", (2,)) == ["Kit: tools", "1.250,00"]
    for bad in ("A||B", "|A", "A|", "A\\"):
        with pytest.raises(MappingError, match="Familienname"):
            v.split_names(bad, "Familienname")
    with pytest.raises(MappingError, match="3 parts"):
        v.split_parts("A:B:C", "Budget", (2,))


@given(st.lists(st.text(min_size=1), max_size=5))
def test_escaped_items_round_trip(items):
    packed = v.join_list(v.escape(i) for i in items)
    assert v.split_names(packed, "x") == tuple(items)
