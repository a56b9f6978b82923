"""Scalar values of the export, each as a pair: national text -> canonical value, and back.

The ``parse_*`` functions raise ``ValueError`` saying what is wrong with the text (the mapper adds the field's path
and turns it into a ``MappingError``); the ``format_*`` functions are their inverses and raise ``ValueError`` for
a canonical value the format cannot carry (rendering is for samples, where that is a bug, not bad input).

Decisions:

- Dates are ``YYYY-MM-DD`` without offset: the XSD checks them and pydantic reads them; where a reader is
  needed, it is the shared ``gateway.connectors.values.parse_date`` in its default form.
- A date of birth may be partial, BRP style: unknown parts are zero. ``1990-07-00`` is July 1990 (precision
  MONTH), ``1990-00-00`` the year 1990 (YEAR), ``0000-00-00`` wholly unknown (UNKNOWN). A known day with an
  unknown month, or a known month with an unknown year, is refused.
- Date-times are local time in Europe/Amsterdam without offset (``2025-03-04T10:15:00``), converted to UTC by
  ``gateway.connectors.values.local_to_utc``. A local time in the hour skipped when summer time starts does not
  exist and is refused. A local time in the hour that occurs twice when summer time ends is read as the setting
  ``ambiguous_local_time`` says (default: the first occurrence, summer time) with a CN-DST-001 warning on the
  fact: the format cannot say which is meant.
- Amounts are euro with a decimal point and exactly two decimals (``1234.50``): no decimal comma, no thousands
  separator, no sign, so the XSD's ``xs:decimal`` checks them. That is stricter than the shared ``parse_decimal``
  (which takes thousands separators and fewer decimals), so ``parse_amount`` stays national; it explains what the
  XSD refused in an amount (a negative one says so).
- Flags are ``J`` (ja) or ``N`` (nee).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Final

from gateway.connectors.values import AmbiguousLocalTime, LocalTime, local_to_utc
from gateway.events import models as m
from gw_connector_nl_xml.spec import LOCAL_TZ

_PARTIAL: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_AMOUNT: Final = re.compile(r"[0-9]{1,10}\.[0-9]{2}")
_CENT: Final = Decimal("0.01")


def format_date(value: dt.date) -> str:
    """Inverse of the shared ``parse_date`` in its default form ``yyyy-mm-dd``."""
    return value.isoformat()


def parse_partial_date(text: str) -> m.PartialDate:
    """A possibly partial date with zeros for unknown parts (see the module docstring)."""
    return m.PartialDate.model_validate(partial_date_fields(text))


def partial_date_fields(text: str) -> dict[str, int | m.DatePrecision]:
    """``parse_partial_date`` as the fields of a ``PartialDate``, for a model validated as a whole."""
    match = _PARTIAL.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a date YYYY-MM-DD (unknown parts 00)")
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if year == 0:
        if month or day:
            raise ValueError(f"{text!r} has a month or day but no year")
        return {"precision": m.DatePrecision.UNKNOWN}
    if month == 0:
        if day:
            raise ValueError(f"{text!r} has a day but no month")
        return {"year": year, "precision": m.DatePrecision.YEAR}
    if month > 12:
        raise ValueError(f"{text!r} has month {month}")
    if day == 0:
        return {"year": year, "month": month, "precision": m.DatePrecision.MONTH}
    try:
        dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None
    return {"year": year, "month": month, "day": day, "precision": m.DatePrecision.DAY}


def format_partial_date(value: m.PartialDate) -> str:
    """Inverse of ``parse_partial_date``."""
    p = m.DatePrecision
    if value.precision == p.UNKNOWN:
        return "0000-00-00"
    parts = {
        p.YEAR: (value.year, 0, 0),
        p.MONTH: (value.year, value.month, 0),
        p.DAY: (value.year, value.month, value.day),
    }
    year, month, day = parts[value.precision]
    if year is None or month is None or day is None:
        raise ValueError(f"partial date {value} lacks a part its precision needs")
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_local_datetime(text: str, field: str, policy: AmbiguousLocalTime = "earlier") -> LocalTime:
    """A local Europe/Amsterdam time without offset, as an aware UTC datetime (see the module docstring)."""
    # The dashes, 'T' and length rule out the other forms fromisoformat takes (offsets, fractions, basic format).
    if len(text) != 19 or text[10] != "T" or text[4] != "-" or text[7] != "-":
        raise ValueError(f"{text!r} is not a local date-time YYYY-MM-DDThh:mm:ss without offset")
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a local date-time YYYY-MM-DDThh:mm:ss without offset") from None
    return local_to_utc(naive, field, LOCAL_TZ, policy)


def format_local_datetime(value: dt.datetime) -> str:
    """Inverse of ``parse_local_datetime``: an aware datetime as local Amsterdam time without offset."""
    if value.tzinfo is None:
        raise ValueError(f"{value} is naive; the canonical model keeps aware datetimes")
    local = value.astimezone(LOCAL_TZ)
    if local.microsecond or local.fold:
        # The format has whole seconds only, and the second 02:xx of autumn would read back as the first.
        raise ValueError(f"{value} cannot be written as a local time without offset")
    return local.replace(tzinfo=None).isoformat()


def parse_amount(text: str, field: str) -> Decimal:
    """A euro amount with a decimal point and two decimals, without sign or thousands separator.

    Raises:
        ValueError: Naming ``field``: the amount is negative (said so: a refund written as an amount), or not
            in the format's form.
    """
    if _AMOUNT.fullmatch(text) is not None:
        return Decimal(text)
    if text.strip().startswith(("-", "\N{MINUS SIGN}")):
        raise ValueError(f"{field}: {text!r} is negative; amounts are written without a sign")
    raise ValueError(
        f"{field}: {text!r} is not an amount like 1234.50 (decimal point, exactly two decimals, no thousands "
        "separator, no currency)"
    )


def format_amount(value: Decimal) -> str:
    """Inverse of ``parse_amount``."""
    if value < 0 or value != value.quantize(_CENT):
        raise ValueError(f"amount {value} is not a non-negative amount in cents")
    text = f"{value:.2f}"
    if _AMOUNT.fullmatch(text) is None:
        raise ValueError(f"amount {value} has too many digits")
    return text


def parse_flag(text: str) -> bool:
    """``J`` or ``N``."""
    if text == "J":
        return True
    if text == "N":
        return False
    raise ValueError(f"{text!r} is not J or N")


def format_flag(value: bool) -> str:
    """Inverse of ``parse_flag``."""
    return "J" if value else "N"


def parse_count(text: str) -> int:
    """A non-negative whole number written with digits only."""
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def format_count(value: int) -> str:
    """Inverse of ``parse_count``."""
    if value < 0:
        raise ValueError(f"count {value} is negative")
    return str(value)
