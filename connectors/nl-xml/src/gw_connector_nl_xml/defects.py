"""Damage valid sample records in named ways, each of which the connector must reject (``Connector.corrupt``).

Every kind of damage makes the record fail in ``parse`` (not well-formed, not valid under the XSD) or in ``map``
(a value the XSD lets through but the mapping cannot accept); none leaves a record that maps to other events.
Damage never touches the record's own start and end tags, so the reader still cuts the export where it should.

Two kinds need a field that some event types lack: ``bad_amount`` (only assistance and reintegration events
carry amounts) and ``unknown_code`` (``<Inreis>`` carries no code). On such a record the damage is done to a
stand-in: an assistance application of the same case, at the same moment, takes the record's place. The sample
generator assigns kinds by record position, so this is what lets every kind fall on any record.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from gateway.connectors.base import Fact, SampleRecord
from gateway.events import models as m
from gw_connector_nl_xml.codelists import Codes
from gw_connector_nl_xml.renderer import render_fact
from gw_connector_nl_xml.spec import RECORD

DEFECT_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "malformed_xml": "not well-formed: an end tag misspelt, a start tag's '<' lost, or a bare '&' in a text",
        "xsd_violation": "invalid under the XSD: the required VNummer or Tijdstip removed, or an unknown element added",
        "unknown_code": "a code no code list knows (a value of Grondslag, Fase, Geslacht, Lidstaat, ...)",
        "bad_date": "a date that does not exist: 30 February, month 13 in a date of birth, or a local time in the "
        "hour skipped for summer time",
        "bad_amount": "an amount written the Dutch way, with a decimal comma (1.234,50), not 1234.50",
        "oversized_field": "a text longer than the XSD's maxLength (Zaaknummer over 40, a name over 100 characters)",
        "bad_encoding": "a Latin-1 byte in a text (é as 0xE9): the record is not UTF-8",
    }
)

_CODE_FIELDS: Final = (
    "Grondslag|Verkortingsgrond|Waarschuwing|Geslacht|Soort|Reden|Status|Fase|Vorm|Steunvorm|Bewijs|"
    "Terugkeersoort|Bron|Categorie|Veiligheidsgrond|ToekennendeLidstaat|Lidstaat"
)
_CODE: Final = re.compile(rf"<({_CODE_FIELDS})>([^<]*)</\1>")
_DATE: Final = re.compile(r"<(\w+)>([0-9]{4})-[0-9]{2}-[0-9]{2}</\1>")
_LOCAL_TIME: Final = re.compile(r"<(\w+)>([0-9]{4})-[0-9]{2}-[0-9]{2}T[0-9:]{8}</\1>")
_AMOUNT: Final = re.compile(r"<Bedrag>([0-9]+)\.([0-9]{2})</Bedrag>")
_NAME: Final = re.compile(r"<(Zaaknummer|Geslachtsnaam|Instantie|Partner)>([^<]*)</\1>")


def corrupt(record: SampleRecord, kind: str, rng: random.Random, codes: Codes) -> bytes:
    """The record's bytes with damage of ``kind`` (one of ``DEFECT_KINDS``).

    Raises:
        ValueError: ``kind`` is unknown, or the record is not a valid rendered record.
    """
    if kind not in _DAMAGE:
        raise ValueError(f"unknown defect kind {kind!r}; known: {sorted(DEFECT_KINDS)}")
    if len(record.facts) != 1:
        raise ValueError("only a valid record (one fact) can be damaged")
    text = record.data.decode("utf-8")
    damaged = _DAMAGE[kind](text, rng)
    if damaged is None:
        damaged = _DAMAGE[kind](_stand_in(record.facts[0], codes), rng)
    if damaged is None:  # the stand-in carries every field a kind needs
        raise ValueError(f"cannot do {kind} damage")
    out = damaged if isinstance(damaged, bytes) else damaged.encode("utf-8")
    _check_frame(record.data, out)
    return out


def _stand_in(fact: Fact, codes: Codes) -> str:
    payload = m.AssistanceApplied(
        programme_reference="NL-AVRR-2025",
        application_date=fact.occurred_at.date(),
        stage=m.ProcedureStage.AFTER_RETURN_DECISION,
        components=(
            m.AssistanceComponent(
                type=m.AssistanceType.TRAVEL, form=m.AssistanceForm.IN_KIND, amount_eur=Decimal("1234.50")
            ),
        ),
    )
    return render_fact(Fact(fact.case_reference, fact.person_ref, fact.occurred_at, payload), codes).decode("utf-8")


def _check_frame(original: bytes, damaged: bytes) -> None:
    """Damage must leave the record's frame alone, or the reader would cut the export elsewhere."""
    start = original[: original.index(b">") + 1]
    close = f"</{RECORD}>".encode()
    if not damaged.startswith(start) or not damaged.endswith(close) or damaged.count(close) != 1:
        raise RuntimeError("defect damaged the record's frame")


def _replace(text: str, match: re.Match[str], group: int, value: str) -> str:
    return text[: match.start(group)] + value + text[match.end(group) :]


def _malformed(text: str, rng: random.Random) -> str:
    way = rng.randrange(3)
    if way == 0:
        return text.replace("</Zaaknummer>", "</Zaaknumer>", 1)
    if way == 1:
        return text.replace("<VNummer>", "VNummer>", 1)
    return text.replace("</Zaaknummer>", " & co</Zaaknummer>", 1)


def _xsd_violation(text: str, rng: random.Random) -> str:
    way = rng.randrange(3)
    if way == 0:
        return re.sub(r"<VNummer>[^<]*</VNummer>", "", text, count=1)
    if way == 1:
        return re.sub(r"<Tijdstip>[^<]*</Tijdstip>", "", text, count=1)
    return text.replace("</Tijdstip>", "</Tijdstip><Opmerking>onbekend element</Opmerking>", 1)


def _unknown_code(text: str, rng: random.Random) -> str | None:
    found = list(_CODE.finditer(text))
    if not found:
        return None
    match = rng.choice(found)
    bogus = "QQ" if match.group(1).endswith("Lidstaat") else rng.choice(("ONGELDIG", "NIET_IN_LIJST", "X_ONBEKEND"))
    return _replace(text, match, 2, bogus)


def _bad_date(text: str, rng: random.Random) -> str:
    dates, times = list(_DATE.finditer(text)), list(_LOCAL_TIME.finditer(text))
    match = rng.choice(dates + times)
    year = int(match.group(2))
    if match in times:
        # The last Sunday of March at 02:30 never happens in Amsterdam: clocks jump from 02:00 to 03:00.
        gap = max(day for day in (dt.date(year, 3, d) for d in range(25, 32)) if day.weekday() == 6)
        value = f"{gap.isoformat()}T02:30:00"
    elif match.group(1) == "Geboortedatum":
        value = f"{year:04d}-13-00"
    else:
        value = f"{year:04d}-02-30"
    return text[: match.start()] + f"<{match.group(1)}>{value}</{match.group(1)}>" + text[match.end() :]


def _bad_amount(text: str, rng: random.Random) -> str | None:
    found = list(_AMOUNT.finditer(text))
    if not found:
        return None
    match = rng.choice(found)
    euros, cents = match.group(1), match.group(2)
    grouped = f"{int(euros):,}".replace(",", ".")
    value = rng.choice((f"{grouped},{cents}", f"{euros},{cents}", f"EUR {euros}.{cents}"))
    return text[: match.start()] + f"<Bedrag>{value}</Bedrag>" + text[match.end() :]


def _oversized(text: str, rng: random.Random) -> str:
    match = rng.choice(list(_NAME.finditer(text)))
    limit = 40 if match.group(1) == "Zaaknummer" else 100
    filler = "X" * (limit + 1 + rng.randrange(40) - len(match.group(2)))
    return _replace(text, match, 2, match.group(2) + filler)


def _bad_encoding(text: str, rng: random.Random) -> bytes:
    match = rng.choice(list(_NAME.finditer(text)))
    head, tail = text[: match.end(2)].encode("utf-8"), text[match.end(2) :].encode("utf-8")
    return head + "é".encode("latin-1") + tail


_DAMAGE: Final[dict[str, Callable[[str, random.Random], str | bytes | None]]] = {
    "malformed_xml": _malformed,
    "xsd_violation": _xsd_violation,
    "unknown_code": _unknown_code,
    "bad_date": _bad_date,
    "bad_amount": _bad_amount,
    "oversized_field": _oversized,
    "bad_encoding": _bad_encoding,
}
