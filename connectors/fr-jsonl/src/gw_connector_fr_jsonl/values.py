"""Values of the French format that JSON has no type for: amounts, partial dates, timestamps with offsets.

Each has a function the structural models run while parsing (so a bad value is a ``ParseError`` with the key's
path): a check, or for timestamps the conversion to UTC, which fails only for instants out of range. Checked
amounts and dates are converted by the mapper, which therefore cannot fail; the renderer uses the inverses.

Amounts are JSON **strings** with a decimal point and exactly two decimals (``"420.00"``), never JSON numbers.
A number goes through a binary float in most JSON stacks, pydantic's included: ``0.1`` has no exact binary
value, and a long literal such as ``420.0000000000000001`` silently comes out as ``420``. A string keeps the
cents the sender meant, so numbers are refused rather than guessed at, including those with more than two
decimals.

A date of birth may be partial, in ISO 8601's reduced-precision forms: ``1990-07-15`` (day known),
``1990-07`` (month known), ``1990`` (year known), or ``null`` (unknown). The French habit of zeros for unknown
parts (``1990-00-00``) is refused: it would be a second spelling of the same thing, and ``00`` is not a month.

Timestamps (``horodatage``) must carry their UTC offset (``2026-03-02T10:30:00+01:00``, or ``Z``); they are
converted to UTC at millisecond precision while parsing, the precision of the canonical ``timestamp-millis``.
Plain dates (``date``, ``fin``, ...) are calendar days and never shift: an event at ``00:30+02:00`` on 5 March
happened on 4 March in UTC, but a decision dated 5 March stays dated 5 March.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Final

from gateway.events import models as m

_AMOUNT: Final = re.compile(r"(?:0|[1-9][0-9]{0,9})\.[0-9]{2}")
_PARTIAL_DATE: Final = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_CENTS: Final = Decimal("0.01")
# ASCII hyphen-minus, and the minus sign and en dash that word processors put in its place.
_MINUS_SIGNS: Final = ("-", "\N{MINUS SIGN}", "\N{EN DASH}")


def check_amount(value: Any) -> Any:
    """Accept an amount spelt ``"420.00"``: a string, no sign, at most 10 digits before the point, 2 after.

    Raises:
        ValueError: The value is a number, or a string of another shape (the message says which).
    """
    if isinstance(value, str):
        if _AMOUNT.fullmatch(value):
            return value
        if value.strip().startswith(_MINUS_SIGNS):  # before any other complaint: the sign is what is wrong
            raise ValueError(f'amount {_short(value)} is negative; amounts are written without a sign, like "420.00"')
        if "," in value:
            raise ValueError('amount written with a decimal comma; write "1234.50", not "1234,50" or "1 234,50"')
        raise ValueError('amount must be a string of digits with a decimal point and two decimals, like "420.00"')
    if isinstance(value, int | float) and not isinstance(value, bool):
        negative = " (and amounts are never negative)" if value < 0 else ""
        raise ValueError(
            f'amount must be a JSON string like "420.00", not the number {_short(value)} '
            f"(binary floating point cannot hold cents exactly){negative}"
        )
    raise ValueError('amount must be a JSON string like "420.00"')


def to_amount(text: str) -> Decimal:
    """The ``Decimal`` of a checked amount string."""
    return Decimal(text)


def format_amount(amount: Decimal) -> str:
    """Spell an amount the way the format wants (``"420.00"``).

    Raises:
        ValueError: The amount is negative or has more than two decimals (the format could not carry it).
    """
    if amount < 0 or amount != amount.quantize(_CENTS):
        raise ValueError(f"amount {amount} cannot be written in the format (negative or sub-cent)")
    return f"{amount:.2f}"


def check_partial_date(text: str | None) -> str | None:
    """Accept ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (a real calendar day) or null.

    Raises:
        ValueError: Any other spelling, month 00 or 13, day 00 or past the month's end, year 0000.
    """
    if text is None:
        return None
    match = _PARTIAL_DATE.fullmatch(text)
    if match is None:
        raise ValueError("invalid partial date: expected YYYY, YYYY-MM or YYYY-MM-DD (null when unknown)")
    year, month, day = (int(part) if part else None for part in match.groups())
    if year == 0:
        raise ValueError("invalid partial date: year 0000 does not exist")
    if month is not None and not 1 <= month <= 12:
        raise ValueError("invalid partial date: month out of range; write YYYY when the month is unknown")
    if day is not None:
        try:
            dt.date(year or 1, month or 1, day)
        except ValueError:
            raise ValueError("invalid partial date: no such day; write YYYY-MM when the day is unknown") from None
    return text


def to_partial_date(text: str | None) -> m.PartialDate:
    """The canonical ``PartialDate`` of a checked partial date."""
    if text is None:
        return m.PartialDate(precision=m.DatePrecision.UNKNOWN)
    year = int(text[:4])
    if len(text) == 4:
        return m.PartialDate(year=year, precision=m.DatePrecision.YEAR)
    if len(text) == 7:
        return m.PartialDate(year=year, month=int(text[5:7]), precision=m.DatePrecision.MONTH)
    return m.PartialDate(year=year, month=int(text[5:7]), day=int(text[8:10]), precision=m.DatePrecision.DAY)


def format_partial_date(date: m.PartialDate) -> str | None:
    """Spell a canonical partial date in the format.

    Raises:
        ValueError: The known parts do not match the precision.
    """
    p = date.precision
    if p == m.DatePrecision.DAY and date.year and date.month and date.day:
        return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
    if p == m.DatePrecision.MONTH and date.year and date.month:
        return f"{date.year:04d}-{date.month:02d}"
    if p == m.DatePrecision.YEAR and date.year:
        return f"{date.year:04d}"
    if p == m.DatePrecision.UNKNOWN:
        return None
    raise ValueError(f"partial date {date} does not match its precision")


def to_utc(moment: dt.datetime) -> dt.datetime:
    """An offset-aware timestamp in UTC, cut to milliseconds (the canonical ``timestamp-millis``).

    Raises:
        ValueError: The instant is outside the years 1 to 9999 in UTC (``0001-01-01T00:30:00+01:00``).
    """
    try:
        utc = moment.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("timestamp out of range once converted to UTC") from None
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def format_timestamp(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """Spell an instant as local time in ``zone`` with its offset (``2026-03-02T10:30:00+01:00``)."""
    local = moment.astimezone(zone)
    text = local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    return text[:-6] + "Z" if zone is dt.UTC else text


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 32 else text[:29] + "..."
