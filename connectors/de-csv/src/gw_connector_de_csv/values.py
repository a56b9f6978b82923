r"""Field values of the export and their inverses: German dates, local times, decimal-comma amounts, packed lists.

Every ``parse_*`` raises ``MappingError`` naming the column; every ``format_*`` is its exact inverse for the
values the canonical model allows. Patterns are compiled once at import, never per record.

Conventions (see the README):

- dates ``TT.MM.JJJJ``; dates of birth may be partial with ``00`` for an unknown part: ``00.07.1990`` (month
  known), ``00.00.1990`` (year known), ``00.00.0000`` (unknown); a known day with an unknown month is an error;
- times ``TT.MM.JJJJ hh:mm[:ss]`` in local time of the configured zone (Europe/Berlin), without offset;
- amounts ``1.234,50``: exactly two decimals, decimal comma, thousands dots optional, never negative;
- flags ``J`` (ja) / ``N`` (nein);
- repeating groups packed in one column: items separated by ``|``, parts of an item by ``:``; a literal
  ``\\``, ``|`` or ``:`` inside an item is escaped with a backslash.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from gateway.connectors.values import AmbiguousLocalTime, LocalTime, country_code, local_to_utc, parse_decimal
from gateway.connectors.values import parse_date as read_date
from gateway.errors import MappingError
from gateway.events.models import ValidationFinding

_DATE = re.compile(r"(\d\d)\.(\d\d)\.(\d{4})", re.ASCII)  # with 00 for unknown parts (dates of birth)
_DATE_FORMATS = ("dd.mm.yyyy",)
_TIME_OF_DAY = re.compile(r" (?:[01]\d|2[0-3]):\d\d(?::\d\d)?", re.ASCII)
_AMOUNT = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d{1,10}),(\d\d)", re.ASCII)
_DECIMAL_POINT = re.compile(r"\d{1,10}\.\d\d", re.ASCII)
_INT = re.compile(r"\d{1,6}", re.ASCII)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_FLAGS = {"J": True, "N": False}
# Canonical amounts have at most 12 digits with 2 decimals (Avro decimal(12,2)).
_MAX_AMOUNT = Decimal("9999999999.99")


def required(value: str, field: str) -> str:
    """The value of a mandatory text column."""
    if not value:
        raise MappingError(f"{field} is required")
    return value


def parse_date(value: str, field: str) -> dt.date:
    """A ``TT.MM.JJJJ`` date (the shared reader's ``dd.mm.yyyy``); 29.02 only in leap years."""
    day = _date(value)
    if day is not None:
        return day
    if not value:
        raise MappingError(f"{field} is required")
    try:
        return read_date(value, field, _DATE_FORMATS)  # it raises again, now saying what is wrong with the column
    except ValueError as exc:
        raise MappingError(str(exc)) from None


@functools.lru_cache(maxsize=8192)
def _date(value: str) -> dt.date | None:
    """The date, or None if it is none (cached: exports repeat dates, and a hit costs a fifth of a parse)."""
    try:
        return read_date(value, "", _DATE_FORMATS)
    except ValueError:
        return None


def optional_date(value: str, field: str) -> dt.date | None:
    """A date, or None for an empty column."""
    return parse_date(value, field) if value else None


def format_date(value: dt.date | None) -> str:
    """The inverse of ``parse_date`` (empty for None)."""
    return "" if value is None else f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def parse_partial_date(value: str, field: str) -> tuple[int | None, int | None, int | None]:
    """A possibly partial date of birth as (year, month, day), unknown parts None.

    ``00`` stands for an unknown day or month and ``0000`` for an unknown year; a part may be unknown only if
    every finer part is unknown too (``15.00.1990`` is rejected).
    """
    parts = _partial_date(value)
    if isinstance(parts, str):
        raise MappingError(f"{field}: {value!r} {parts}" if value else f"{field} is required")
    return parts


@functools.lru_cache(maxsize=8192)
def _partial_date(value: str) -> tuple[int | None, int | None, int | None] | str:
    match = _DATE.fullmatch(value)
    if match is None:
        return "is not a date in the form TT.MM.JJJJ (00 for an unknown part)"
    day, month, year = (int(g) for g in match.groups())
    if year == 0:
        return "has an unknown year but a known month or day" if month or day else (None, None, None)
    if month == 0:
        return "has an unknown month but a known day" if day else (year, None, None)
    if day == 0:
        return f"has no month {month}" if month > 12 else (year, month, None)
    try:
        dt.date(year, month, day)
    except ValueError:
        return "is not a calendar date"
    return year, month, day


def format_partial_date(year: int | None, month: int | None, day: int | None) -> str:
    """The inverse of ``parse_partial_date``."""
    return f"{day or 0:02d}.{month or 0:02d}.{year or 0:04d}"


def parse_local_datetime(value: str, field: str, zone: ZoneInfo, policy: AmbiguousLocalTime = "earlier") -> LocalTime:
    """A local ``TT.MM.JJJJ hh:mm[:ss]`` time in ``zone``, returned in UTC.

    A time in the autumn hour that occurs twice is read as ``policy`` says, with a warning; a time in the spring
    gap does not exist and is rejected (``gateway.connectors.values.local_to_utc``).
    """
    day = _local_day(value[:10], zone)
    # The shape check (hour 00-23: newer Pythons read "24:00" as midnight of the next day) leaves only
    # "hh:mm" or "hh:mm:ss" to datetime.fromisoformat, which is C and checks the rest.
    if day is None or _TIME_OF_DAY.fullmatch(value, 10) is None:
        if day is None and _DATE.fullmatch(value, 0, 10) is not None:  # the shape of a date, but not a date
            raise MappingError(f"{field}: {value!r} is not a calendar date")
        raise _malformed(field, value, "a time in the form TT.MM.JJJJ hh:mm[:ss]")
    iso, offset = day
    try:
        local = dt.datetime.fromisoformat(f"{iso}{value[11:]}+00:00")
    except ValueError:
        raise MappingError(f"{field}: {value!r} is not a valid date and time") from None
    if offset is not None:  # the common case: no clock change that day, one offset for every wall time
        return LocalTime(local - offset)
    try:
        return local_to_utc(local.replace(tzinfo=None), field, zone, policy)
    except ValueError as exc:
        raise MappingError(str(exc)) from None


class Clock:
    """Reads one row's local times with the connector's zone and policy, gathering the warnings for its fact."""

    __slots__ = ("policy", "warnings", "zone")

    def __init__(self, zone: ZoneInfo, policy: AmbiguousLocalTime) -> None:
        self.zone, self.policy = zone, policy
        self.warnings: list[ValidationFinding] = []

    def utc(self, value: str, field: str) -> dt.datetime:
        """The UTC instant of a local time column (see ``parse_local_datetime``)."""
        local = parse_local_datetime(value, field, self.zone, self.policy)
        if local.warning is not None:
            self.warnings.append(local.warning)
        return local.utc


@functools.lru_cache(maxsize=4096)
def _local_day(text: str, zone: ZoneInfo) -> tuple[str, dt.timedelta | None] | None:
    """A day's ISO prefix and the UTC offset of all its wall times (None if the clocks change that day).

    None instead if ``text`` is not a ``TT.MM.JJJJ`` date.

    Converting through zoneinfo costs several microseconds; a day's offset is computed once instead. A day
    whose first and last second share an offset is taken to have no clock change in between (no zone changes
    its clocks twice in a day).
    """
    day = _date(text)
    if day is None:
        return None
    midnight = dt.datetime.combine(day, dt.time(), zone)
    first, last = midnight.utcoffset(), midnight.replace(hour=23, minute=59, second=59).utcoffset()
    return f"{day.isoformat()}T", first if first == last else None


def format_local_datetime(value: dt.datetime, zone: ZoneInfo, *, seconds: bool = True) -> str:
    """The inverse of ``parse_local_datetime``.

    Raises:
        ValueError: The instant has sub-second precision, or is the second occurrence of an autumn wall time,
            which a local time without offset cannot express.
    """
    local = value.astimezone(zone)
    if local.microsecond or (local.second and not seconds):
        raise ValueError(f"{value.isoformat()} has more precision than the export's times")
    if local.fold:
        raise ValueError(f"{value.isoformat()} is the repeated autumn hour in {zone.key}; local time is ambiguous")
    text = f"{local.day:02d}.{local.month:02d}.{local.year:04d} {local.hour:02d}:{local.minute:02d}"
    return f"{text}:{local.second:02d}" if seconds else text


def parse_amount(value: str, field: str) -> Decimal:
    """A euro amount ``1.234,50`` (thousands dots optional, exactly two decimals).

    The national spelling is a strict subset of what the shared ``parse_decimal`` reads: it is checked first
    (one regex, the common case), and anything else is judged by ``parse_decimal``, so that a negative amount
    or a misplaced separator is named as such; what it reads but the export may not hold (one decimal, spaces)
    gets the national form.
    """
    match = _AMOUNT.fullmatch(value)
    if match is None:
        if _DECIMAL_POINT.fullmatch(value):  # "12.50": the English decimal point, not a thousands dot
            raise MappingError(
                f"{field}: {value!r} has a decimal point; write a decimal comma: {value[:-3]},{value[-2:]}"
            )
        if value:
            try:
                parse_decimal(value, field, decimal_separator=",")
            except ValueError as exc:
                raise MappingError(str(exc)) from None
        raise _malformed(field, value, "an amount in the form 1.234,50 (exactly two decimals, thousands dots optional)")
    whole, cents = match.groups()
    amount = Decimal(f"{whole.replace('.', '')}.{cents}")
    if amount > _MAX_AMOUNT:
        raise MappingError(f"{field}: {value!r} exceeds the largest amount of 9.999.999.999,99")
    return amount


def format_amount(value: Decimal, *, thousands: bool = True) -> str:
    """The inverse of ``parse_amount``.

    Raises:
        ValueError: The amount is negative or has more than two decimals.
    """
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"amount {value} is not a non-negative amount with two decimals")
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def parse_flag(value: str, field: str) -> bool:
    """A mandatory ``J``/``N`` flag."""
    try:
        return _FLAGS[value]
    except KeyError:
        raise _malformed(field, value, "J or N") from None


def parse_flag_default(value: str, field: str) -> bool:
    """An optional ``J``/``N`` flag; empty means N."""
    return parse_flag(value, field) if value else False


def format_flag(value: bool) -> str:
    """The inverse of ``parse_flag``."""
    return "J" if value else "N"


def parse_int(value: str, field: str) -> int:
    """A non-negative whole number of at most six digits (days, family size)."""
    if _INT.fullmatch(value) is None:
        raise _malformed(field, value, "a whole number")
    return int(value)


def optional_int(value: str, field: str) -> int | None:
    """A whole number, or None for an empty column."""
    return parse_int(value, field) if value else None


def country(value: str, field: str) -> str:
    """A country code as given, normalised; the shared code list (rule CD-001) decides, e.g. ``D`` or ``XKX``."""
    code = country_code(value)
    if not code:
        raise MappingError(f"{field} is required")
    return code


def split_list(value: str, field: str) -> list[str]:
    """The items of a packed column (``A|B|C``), escapes kept; empty column -> no items."""
    if not value:
        return []
    items = value.split("|") if "\\" not in value else _split_escaped(value, "|", field)
    if "" in items:
        raise MappingError(f"{field}: {value!r} has an empty item")
    return items


def split_names(value: str, field: str) -> tuple[str, ...]:
    """The unescaped items of a packed list of free texts (names); empty column -> no items."""
    if not value:
        return ()
    escaped = "\\" in value
    items = tuple(unescape(i) for i in _split_escaped(value, "|", field)) if escaped else tuple(value.split("|"))
    if "" in items:
        raise MappingError(f"{field}: {value!r} has an empty item")
    return items


def split_parts(item: str, field: str, counts: tuple[int, ...]) -> list[str]:
    """The unescaped parts of one packed item (``TYP:FORM:BETRAG``), checking how many there are."""
    parts = item.split(":") if "\\" not in item else [unescape(p) for p in _split_escaped(item, ":", field)]
    if len(parts) not in counts:
        expected = " or ".join(str(c) for c in counts)
        raise MappingError(f"{field}: item {item!r} has {len(parts)} parts separated by ':', not {expected}")
    return parts


def unescape(item: str) -> str:
    """An item with its backslash escapes resolved."""
    return _ESCAPED.sub(r"\1", item) if "\\" in item else item


def escape(text: str) -> str:
    """Escape the characters that structure a packed column (the inverse of ``unescape``)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace(":", "\\:")


def join_list(items: Iterable[str]) -> str:
    """Pack already escaped items into one column."""
    return "|".join(items)


def _malformed(field: str, value: str, expected: str) -> MappingError:
    return MappingError(f"{field}: {value!r} is not {expected}" if value else f"{field} is required")


def _split_escaped(value: str, sep: str, field: str) -> list[str]:
    # Rare slow path: walk the characters so that an escaped separator does not split.
    out: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise MappingError(f"{field}: {value!r} ends with an escape backslash")
            current.append(char)
            current.append(escaped)
        elif char == sep:
            out.append("".join(current))
            current = []
        else:
            current.append(char)
    out.append("".join(current))
    return out
