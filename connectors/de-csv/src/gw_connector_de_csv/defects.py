"""Damaging valid sample rows so that they must fail in ``parse`` or ``map``.

Every kind applies to every event type and always yields an error, never a row that maps to other facts: no
defect can turn a value into another valid spelling. No defect adds a quote or a line break, so a damaged row
never swallows its neighbours.
"""

from __future__ import annotations

import random
from decimal import Decimal
from types import MappingProxyType

from gw_connector_de_csv.columns import index_of
from gw_connector_de_csv.parser import split_fields
from gw_connector_de_csv.renderer import encode_row
from gw_connector_de_csv.values import format_amount, parse_amount

DEFECT_KINDS = MappingProxyType(
    {
        "wrong_column_count": "the row has one field more or two fewer than the header",
        "bad_date": "Zeitpunkt is no valid local time (31.02., 29.02. of a common year, ISO spelling, DST gap)",
        "unknown_code": "a code column holds a code that codes.toml does not list",
        "bad_amount": "Betrag_EUR is malformed (decimal point, one decimal, minus sign, unit) or does not add up",
        "missing_required": "Aktenzeichen, Personenkennung, Ereignisart or Zeitpunkt is empty",
        "invalid_encoding": "bytes invalid in the export's encoding: broken UTF-8, or a C1 or UTF-8 byte in ISO-8859-1",
    }
)

_CODE_COLUMNS = (
    "ereignisart",
    "geschlecht",
    "dokumentart",
    "rechtsgrundlage",
    "verkuerzungsgrund",
    "verlaengerungsgrund",
    "entscheidungsstatus",
    "verfahrensstand",
    "ablehnungsgrund",
    "reintegrationsphase",
    "rueckkehrart",
    "feststellung",
    "eurodac_kategorie",
    "foerderung_status",
)
_BAD_TIMES = (
    "31.02.2025 10:00",
    "29.02.2025 09:30:00",
    "2025-03-01 10:00:00",
    "30.03.2025 02:30",  # the hour Europe/Berlin skips at the start of summer time
    "15.13.2025 10:00",
    "12.05.2025 24:00",
)
_BAD_AMOUNTS = ("12.50", "12,5", "-5,00", "1,234.50", "12,50 EUR", "1.23,00")
_REQUIRED = ("aktenzeichen", "personenkennung", "ereignisart", "zeitpunkt")
_BAD_UTF8 = (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80")
_C1_BYTES = (b"\x80", b"\x84", b"\x93", b"\x9f")
# Unassigned in Windows-1252 and C1 controls in ISO-8859-1: invalid whichever of the two a file is read in.
_UNASSIGNED_1252 = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_CENT = Decimal("0.01")
_UTF8_UMLAUT = b"\xc3\xbc"  # "ü" in UTF-8: in an ISO-8859-1 file, the signature of a missing BOM


def corrupt(data: bytes, kind: str, rng: random.Random, encoding: str, read_encoding: str) -> bytes:
    """Damage a rendered row (canonical column order) in the way ``kind`` names.

    Args:
        data: The row as rendered.
        kind: One of ``DEFECT_KINDS``.
        rng: Source of the choices.
        encoding: Encoding the row was rendered in.
        read_encoding: Encoding the reader assumes for a file without a BOM.

    Raises:
        ValueError: ``kind`` is not one of ``DEFECT_KINDS``.
    """
    if kind == "invalid_encoding":
        return _bad_bytes(data, rng, encoding, read_encoding)
    fields = split_fields(data.decode(encoding))
    if kind == "wrong_column_count":
        # Two fewer, not one: a header-less row one field short is the valid layout before Förderung_Status.
        fields = [*fields, ""] if rng.random() < 0.5 else fields[:-2]
    elif kind == "bad_date":
        fields[index_of("zeitpunkt")] = rng.choice(_BAD_TIMES)
    elif kind == "unknown_code":
        present = [index_of(c) for c in _CODE_COLUMNS if fields[index_of(c)]]
        column = rng.choice(present)
        fields[column] = f"{fields[column]}_ALT"
    elif kind == "bad_amount":
        _bad_amount(fields, rng)
    elif kind == "missing_required":
        fields[index_of(rng.choice(_REQUIRED))] = ""
    else:
        raise ValueError(f"unknown defect kind {kind!r}; known: {', '.join(DEFECT_KINDS)}")
    return encode_row(fields, encoding)


def _bad_amount(fields: list[str], rng: random.Random) -> None:
    total = index_of("betrag_eur")
    if fields[total] and rng.random() < 0.5:
        # A well-formed total that is off by a cent: only the control sum can notice.
        fields[total] = format_amount(parse_amount(fields[total], "Betrag_EUR") + _CENT)
    else:
        fields[total] = rng.choice(_BAD_AMOUNTS)


def _bad_bytes(data: bytes, rng: random.Random, encoding: str, read_encoding: str) -> bytes:
    cut = data.index(b";")  # inside Aktenzeichen, which every row has
    if encoding == "utf-8":
        bad = rng.choice(_BAD_UTF8)
    elif read_encoding == "iso-8859-1" and data.isascii() and rng.random() < 0.5:
        # Only an error where the reader takes BOM-less files for ISO-8859-1; a C1 byte is one anywhere.
        bad = _UTF8_UMLAUT
    elif read_encoding == "windows-1252":
        bad = rng.choice(_UNASSIGNED_1252)
    else:
        bad = rng.choice(_C1_BYTES)
    return data[:cut] + bad + data[cut:]
