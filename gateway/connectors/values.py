"""Shared value readers for connector authors: national dates, local times, amounts and country codes.

Every reader is pure and raises ``ValueError`` naming the field and saying what is wrong, in words a national
operator understands; the connector turns it into its ``MappingError``. Readers decide the *form* of a value,
never whether a code is acceptable: country codes are normalised and handed on to the canonical model and the
shared code list (rule CD-001), which alone decide (``D`` for Germany in the MRZ, ``XKX``/``RKS`` for Kosovo).

Local times: a wall time without offset is converted to UTC in the connector's zone. The hour repeated when
summer time ends is ambiguous; ``AmbiguousLocalTime`` says how to read it (``earlier``: the first occurrence,
summer time; ``later``: the second; ``reject``: an error) and a resolved ambiguity comes back with a WARNING
finding (rule ``CN-DST-001``) for the connector to put on its ``Fact``. A wall time in the hour skipped when
summer time starts never existed and is always rejected: no reading of it is more plausible than another.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal
from zoneinfo import ZoneInfo

from gateway.events.models import Severity, ValidationFinding

AmbiguousLocalTime = Literal["earlier", "later", "reject"]
"""How a connector reads a local time in the hour that occurs twice when summer time ends."""

DST_RULE_ID: Final = "CN-DST-001"
"""Rule id of the warning put on a fact whose local time was ambiguous and resolved by policy."""

DATE_FORMATS: Final = {
    "dd.mm.yyyy": re.compile(r"(?P<d>\d\d)\.(?P<m>\d\d)\.(?P<y>\d{4})", re.ASCII),
    "dd/mm/yyyy": re.compile(r"(?P<d>\d\d)/(?P<m>\d\d)/(?P<y>\d{4})", re.ASCII),
    "yyyy-mm-dd": re.compile(r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)", re.ASCII),
    "yyyymmdd": re.compile(r"(?P<y>\d{4})(?P<m>\d\d)(?P<d>\d\d)", re.ASCII),
}
"""The national date forms a connector may accept, by the name it configures them with."""

_NO_LEGAL_REFERENCE: Final = "none (data quality)"


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A local wall time converted to UTC.

    Attributes:
        utc: The instant, timezone-aware in UTC.
        warning: A WARNING finding when the wall time was ambiguous and the policy chose an occurrence.
    """

    utc: dt.datetime
    warning: ValidationFinding | None = None


def parse_date(text: str, field: str, formats: Sequence[str] = ("yyyy-mm-dd",)) -> dt.date:
    """A calendar date in the first of ``formats`` (keys of ``DATE_FORMATS``) that matches its shape."""
    for name in formats:
        match = DATE_FORMATS[name].fullmatch(text)
        if match is not None:
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                raise ValueError(f"{field}: {text!r} is not a calendar date") from None
    raise ValueError(f"{field}: {text!r} is not a date in the form {' or '.join(formats)}")


def local_to_utc(naive: dt.datetime, field: str, zone: ZoneInfo, policy: AmbiguousLocalTime = "earlier") -> LocalTime:
    """The UTC instant of a wall time in ``zone``, applying ``policy`` to the repeated autumn hour."""
    if naive.tzinfo is not None:
        raise ValueError(f"{field}: {naive.isoformat()} has an offset; a local time without one was expected")
    earlier = naive.replace(tzinfo=zone, fold=0)
    later = naive.replace(tzinfo=zone, fold=1)
    text = naive.isoformat(sep=" ")
    # A wall time that does not survive the round trip through UTC lies in the spring-forward gap.
    if earlier.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(f"{field}: {text} does not exist in {zone.key} (the hour skipped when summer time starts)")
    if earlier.utcoffset() == later.utcoffset():
        return LocalTime(earlier.astimezone(dt.UTC))
    if policy == "reject":
        raise ValueError(
            f"{field}: {text} occurs twice in {zone.key} (the hour repeated when summer time ends);"
            " the export must say which (setting ambiguous_local_time)"
        )
    chosen = earlier if policy == "earlier" else later
    utc = chosen.astimezone(dt.UTC)
    which = "first (summer time)" if policy == "earlier" else "second (standard time)"
    warning = ValidationFinding(
        rule_id=DST_RULE_ID,
        severity=Severity.WARNING,
        path=field,
        message=f"{text} occurs twice in {zone.key}; read as its {which} occurrence, {utc.isoformat()}",
        legal_reference=_NO_LEGAL_REFERENCE,
    )
    return LocalTime(utc, warning)


def parse_decimal(text: str, field: str, *, decimal_separator: Literal[",", "."], max_places: int = 2) -> Decimal:
    """A non-negative decimal written with ``decimal_separator`` and optional thousands separators.

    The thousands separator is the other of ``,`` and ``.`` (or a space); groups must have three digits, so
    ``1.234,50`` reads with ``,`` but ``1,234`` with ``,`` as decimal separator is three decimals and refused.
    """
    value = text.strip()
    if value.startswith(("-", "\N{MINUS SIGN}")):
        raise ValueError(f"{field}: {text!r} is negative; amounts are written without a sign")
    thousands = "." if decimal_separator == "," else ","
    whole, sep, fraction = value.partition(decimal_separator)
    if decimal_separator in fraction or thousands in fraction:
        raise ValueError(f"{field}: {text!r} has a separator after the decimal {decimal_separator!r}")
    groups = re.split(rf"[{re.escape(thousands)} ]", whole)
    if len(groups) > 1 and (
        not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]) or len({*re.findall(r"[ .,]", whole)}) > 1
    ):
        raise ValueError(
            f"{field}: {text!r} has misplaced thousands separators; write e.g. 1{thousands}234{decimal_separator}50"
        )
    digits = "".join(groups)
    if not digits.isascii() or not digits.isdigit() or (sep and not (fraction.isascii() and fraction.isdigit())):
        raise ValueError(f"{field}: {text!r} is not an amount like 1{thousands}234{decimal_separator}50")
    if len(fraction) > max_places:
        raise ValueError(f"{field}: {text!r} has more than {max_places} decimals")
    try:
        return Decimal(f"{digits}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the checks above leave only digits
        raise ValueError(f"{field}: {text!r} is not a number") from None


def country_code(text: str) -> str:
    """A country code normalised for the canonical model: stripped and upper-cased, never refused here.

    The code list (rule CD-001) decides what is acceptable: ISO 3166-1 alpha-3, ICAO 9303 codes such as ``D``
    (Germany in the MRZ) or ``XXA``, and user-assigned codes such as ``XKX`` by setting.
    """
    return text.strip().upper()
