"""Shared connector value readers: dates, local times under DST, amounts, country codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.connectors import values as v
from gateway.events.models import Severity

BERLIN = ZoneInfo("Europe/Berlin")
AUTUMN = dt.datetime(2025, 10, 26, 2, 30)  # 02:30 occurs twice in Berlin
SPRING = dt.datetime(2025, 3, 30, 2, 30)  # 02:30 never happens in Berlin


@given(st.dates(min_value=dt.date(1000, 1, 1)), st.sampled_from(sorted(v.DATE_FORMATS)))
def test_every_date_format_reads_back_what_it_writes(day: dt.date, form: str) -> None:
    text = {
        "dd.mm.yyyy": f"{day.day:02d}.{day.month:02d}.{day.year:04d}",
        "dd/mm/yyyy": f"{day.day:02d}/{day.month:02d}/{day.year:04d}",
        "yyyy-mm-dd": day.isoformat(),
        "yyyymmdd": day.strftime("%Y%m%d") if day.year >= 1000 else "",
    }[form]
    assert v.parse_date(text, "Datum", list(v.DATE_FORMATS)) == day


@given(st.text(max_size=12))
def test_parse_date_raises_only_value_error(text: str) -> None:
    try:
        v.parse_date(text, "Datum", list(v.DATE_FORMATS))
    except ValueError as e:
        message = str(e)
    else:
        return
    assert message.startswith("Datum: ")


def test_parse_date_names_the_field_and_forms() -> None:
    with pytest.raises(ValueError, match=r"Datum: '31.02.2024' is not a calendar date"):
        v.parse_date("31.02.2024", "Datum", ["dd.mm.yyyy"])
    with pytest.raises(ValueError, match=r"dd\.mm\.yyyy or yyyymmdd"):
        v.parse_date("2024-01-01", "Datum", ["dd.mm.yyyy", "yyyymmdd"])


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("earlier", dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)),
        ("later", dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)),
    ],
)
def test_ambiguous_autumn_time_follows_policy_and_warns(policy: v.AmbiguousLocalTime, expected: dt.datetime) -> None:
    result = v.local_to_utc(AUTUMN, "Zeitpunkt", BERLIN, policy)
    assert result.utc == expected
    assert result.warning is not None
    assert (result.warning.rule_id, result.warning.severity, result.warning.path) == (
        v.DST_RULE_ID,
        Severity.WARNING,
        "Zeitpunkt",
    )


def test_ambiguous_autumn_time_rejected_on_request() -> None:
    with pytest.raises(ValueError, match=r"occurs twice.*ambiguous_local_time"):
        v.local_to_utc(AUTUMN, "Zeitpunkt", BERLIN, "reject")


def test_spring_gap_time_is_rejected_whatever_the_policy() -> None:
    policies: tuple[v.AmbiguousLocalTime, ...] = ("earlier", "later", "reject")
    for policy in policies:
        with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
            v.local_to_utc(SPRING, "Zeitpunkt", BERLIN, policy)


@given(st.datetimes(min_value=dt.datetime(1980, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_local_to_utc_round_trips_and_warns_only_when_ambiguous(naive: dt.datetime) -> None:
    try:
        result = v.local_to_utc(naive, "t", BERLIN, "later")
    except ValueError:
        return  # spring gap
    assert result.utc.astimezone(BERLIN).replace(tzinfo=None) == naive
    ambiguous = naive.replace(tzinfo=BERLIN, fold=0).utcoffset() != naive.replace(tzinfo=BERLIN, fold=1).utcoffset()
    assert (result.warning is not None) == ambiguous


@pytest.mark.parametrize(
    ("text", "sep", "expected"),
    [
        ("1.234,50", ",", Decimal("1234.50")),
        ("1234,5", ",", Decimal("1234.5")),
        ("1,234.50", ".", Decimal("1234.50")),
        ("1 234.50", ".", Decimal("1234.50")),
        ("12", ".", Decimal("12")),
    ],
)
def test_parse_decimal_reads_either_separator(text: str, sep: str, expected: Decimal) -> None:
    assert v.parse_decimal(text, "Betrag", decimal_separator=sep) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-12,00", "Betrag: '-12,00' is negative"),
        ("1,234", "more than 2 decimals"),
        ("12.34.5", "misplaced thousands"),
        ("1.234.5,00", "misplaced thousands"),
        ("1.234 567,00", "misplaced thousands"),
        ("12,3,4", "separator after the decimal"),
        ("abc", "is not an amount"),
    ],
)
def test_parse_decimal_refuses_ambiguity_clearly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        v.parse_decimal(text, "Betrag", decimal_separator=",")


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False), st.sampled_from([",", "."]))
def test_parse_decimal_round_trips(amount: Decimal, sep: str) -> None:
    text = f"{amount:,.2f}"
    if sep == ",":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    assert v.parse_decimal(text, "x", decimal_separator=sep) == amount  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"), [(" d ", "D"), ("xkx", "XKX"), ("RKS", "RKS"), ("gb", "GB"), ("UK", "UK")]
)
def test_country_code_is_normalised_never_refused(text: str, expected: str) -> None:
    assert v.country_code(text) == expected
