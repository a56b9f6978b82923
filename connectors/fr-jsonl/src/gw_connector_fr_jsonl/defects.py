"""Damaging valid sample records in named ways, each of which the connector must reject (``Connector.corrupt``).

Every kind makes the record fail in ``parse`` (not JSON, not the format's structure or spelling) or in ``map``
(a code ``codes.toml`` does not list). Damage is checked, not assumed: each candidate damage is parsed and
mapped, and only one that raises a ``RecordError`` is used, so no defect can slip through as a record that maps
to other events. No damage adds a line break, so a damaged record never swallows its neighbours.

``bad_amount`` needs an amount, which only assistance and reintegration records carry. On any other record the
damage is done to a stand-in: an assistance application of the same case, at the same moment, takes the
record's place. The sample generator assigns kinds by record position, so this is what lets every kind fall on
any record.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from gateway.connectors.base import Fact, SampleRecord
from gateway.errors import RecordError
from gateway.events import models as m
from gw_connector_fr_jsonl.codelists import Codes
from gw_connector_fr_jsonl.mapper import map_record
from gw_connector_fr_jsonl.parser import parse_record
from gw_connector_fr_jsonl.renderer import PARIS, encode, render_fact

DEFECT_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "invalid_json": "not well-formed JSON: the line cut short (a truncated write), its closing brace lost, "
        "a trailing comma, or '=' for ':'",
        "duplicate_key": "a key given twice in one object, with two different values",
        "missing_field": "a required key removed (numeroDossier, horodatage, the event's block, or one of its keys)",
        "wrong_type": "a value of the wrong JSON type: a number as a string or the reverse, 'oui' for true, "
        "a single string for a list",
        "unknown_code": "a code codes.toml does not list (sexe 'H', a lower-case fondement) or an unknown "
        "typeEvenement",
        "bad_date": "a date that does not exist or is misspelt: 30 February, month 13, the French 30/03/2025, "
        "a timestamp without its offset, dateNaissance 1990-00-00",
        "bad_amount": "an amount as a JSON number (420.001, 420.5), with a minus sign, or written the French way "
        "('420,00', '1 200,00')",
        "invalid_utf8": "a Latin-1 byte (é as 0xE9) or a cut UTF-8 sequence inside a text",
    }
)

Obj = dict[str, Any]
Damage = Callable[[bytes, random.Random], Iterator[bytes]]

_CODE_KEYS: Final = frozenset(
    (
        *("typeEvenement", "fondement", "motifReduction", "signalements", "sexe", "type", "motif", "statut"),
        *("stadeProcedure", "forme", "etatMembreOctroi", "motifRefus", "typesSoutien", "etape", "preuves"),
        *("typeRetour", "source", "etatMembre", "categorie", "motifsSecurite"),
    )
)
_DATE_KEYS: Final = frozenset(
    (
        *("date", "debut", "fin", "dateDelivrance", "dateExpiration", "nouvelleFin", "ancienneFin", "dateEffet"),
        *("dateDemande", "dateOctroi", "dateRefus", "dateDepartPrevue", "dateArrivee", "finDelai", "dateReleve"),
    )
)
_TIMESTAMP_KEYS: Final = frozenset(("horodatage", "dateEnregistrement", "dateTransmission"))
_BAD_UTF8: Final = (b"\xe9", b"\xc3", b"\xff", b"\xed\xa0\x80")


def corrupt(record: SampleRecord, kind: str, rng: random.Random, codes: Codes) -> bytes:
    """The record's bytes with damage of ``kind`` (one of ``DEFECT_KINDS``) that the connector rejects.

    Raises:
        ValueError: ``kind`` is unknown, or the record is not a valid rendered record.
    """
    if kind not in _DAMAGE:
        raise ValueError(f"unknown defect kind {kind!r}; known: {sorted(DEFECT_KINDS)}")
    if len(record.facts) != 1:
        raise ValueError("only a valid record (one fact) can be damaged")
    for data in (record.data, _stand_in(record.facts[0], codes)):
        for damaged in _DAMAGE[kind](data, rng):
            if b"\n" not in damaged and _rejected(damaged, codes):
                return damaged
    raise ValueError(f"cannot do {kind} damage to this record")


def _rejected(data: bytes, codes: Codes) -> bool:
    try:
        map_record(parse_record(data, "sample", max_depth=16, max_bytes=1 << 20), codes)
    except RecordError:
        return True
    return False


def _stand_in(fact: Fact, codes: Codes) -> bytes:
    payload = m.AssistanceApplied(
        programme_reference="FR-AVRR-2025",
        application_date=fact.occurred_at.date(),
        stage=m.ProcedureStage.AFTER_RETURN_DECISION,
        components=(
            m.AssistanceComponent(type=m.AssistanceType.COUNSELLING, form=m.AssistanceForm.IN_KIND),
            m.AssistanceComponent(
                type=m.AssistanceType.TRAVEL, form=m.AssistanceForm.IN_KIND, amount_eur=Decimal("420.00")
            ),
            m.AssistanceComponent(
                type=m.AssistanceType.PRE_DEPARTURE_CASH, form=m.AssistanceForm.CASH, amount_eur=Decimal("300.00")
            ),
        ),
    )
    return render_fact(Fact(fact.case_reference, fact.person_ref, fact.occurred_at, payload), codes, PARIS)


# ---- the kinds -----------------------------------------------------------------------------------------------


def _invalid_json(data: bytes, rng: random.Random) -> Iterator[bytes]:
    cut = rng.randrange(1, len(data) - 1)
    choices = [data[:cut], data[:-1], data[:-1] + b",}", data.replace(b'":', b'"=', 1)]
    rng.shuffle(choices)
    yield from choices


def _duplicate_key(data: bytes, rng: random.Random) -> Iterator[bytes]:
    obj = json.loads(data)
    keys = [k for k in ("numeroDossier", "identifiantPersonne", "horodatage") if isinstance(obj.get(k), str)]
    rng.shuffle(keys)
    for key in keys:
        other = json.dumps({key: _altered(obj[key])}, ensure_ascii=False, separators=(",", ":"))[1:-1]
        # Put the second value last or first: pydantic keeps the last, other readers the first.
        if rng.random() < 0.5:
            yield data[:-1] + b"," + other.encode("utf-8") + b"}"
        else:
            yield b"{" + other.encode("utf-8") + b"," + data[1:]


def _altered(text: str) -> str:
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not digits:
        return text + "X"
    i = digits[-1]
    return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]


def _missing_field(data: bytes, rng: random.Random) -> Iterator[bytes]:
    obj = json.loads(data)
    slots = list(_slots(obj))
    rng.shuffle(slots)
    for parent, key in slots:
        value = parent.pop(key)
        yield encode(obj)
        parent[key] = value  # restore: candidates are tried one at a time


def _wrong_type(data: bytes, rng: random.Random) -> Iterator[bytes]:
    obj = json.loads(data)
    slots = [(p, k) for p, k in _slots(obj) if k != "montantEur"]
    rng.shuffle(slots)
    for parent, key in slots:
        value = parent[key]
        parent[key] = _retyped(value)
        yield encode(obj)
        parent[key] = value


def _retyped(value: Any) -> Any:
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return int(value) if value.isdigit() and len(value) < 19 else 1
    if isinstance(value, list):
        return value[0] if value else {}
    if isinstance(value, dict):
        return [value]
    return 0  # null


def _unknown_code(data: bytes, rng: random.Random) -> Iterator[bytes]:
    obj = json.loads(data)
    slots = [(p, k) for p, k in _slots(obj) if k in _CODE_KEYS]
    rng.shuffle(slots)
    for parent, key in slots:
        value = parent[key]
        if isinstance(value, list):
            if not value:
                continue
            parent[key] = [_wrong_code(key, value[0], rng), *value[1:]]
        else:
            parent[key] = _wrong_code(key, value, rng)
        yield encode(obj)
        parent[key] = value


def _wrong_code(key: str, code: str, rng: random.Random) -> str:
    if key == "sexe":
        return rng.choice(("H", "m", "HOMME"))
    if key == "typeEvenement":
        return rng.choice(("OQTF", code.lower(), code + "_V2"))
    return rng.choice((code.lower(), code + "_V2", code.replace("E", "É", 1) if "E" in code else code + "S"))


def _bad_date(data: bytes, rng: random.Random) -> Iterator[bytes]:
    obj = json.loads(data)
    slots = [(p, k) for p, k in _slots(obj) if k in _DATE_KEYS | _TIMESTAMP_KEYS or k == "dateNaissance"]
    rng.shuffle(slots)
    for parent, key in slots:
        value = parent[key]
        if not isinstance(value, str):
            continue
        parent[key] = rng.choice(_bad_dates(key, value))
        yield encode(obj)
        parent[key] = value


def _bad_dates(key: str, value: str) -> tuple[str, ...]:
    year = value[:4]
    if key in _TIMESTAMP_KEYS:
        moment = dt.datetime.fromisoformat(value)
        naive = moment.replace(tzinfo=None).isoformat(timespec="seconds")
        return (naive, moment.strftime("%d/%m/%Y %H:%M"), f"{year}-02-30T10:00:00+01:00", naive + "+25:00")
    if key == "dateNaissance":
        return (f"{year}-00-00", f"15/07/{year}", f"{year}-02-30", f"{year}-13")
    day = dt.date.fromisoformat(value)
    return (f"{year}-02-30", f"{year}-13-01", day.strftime("%d/%m/%Y"), f"{value}T00:00:00")


def _bad_amount(data: bytes, rng: random.Random) -> Iterator[bytes]:
    obj = json.loads(data)
    slots = [(p, k) for p, k in _slots(obj) if k == "montantEur"]
    rng.shuffle(slots)
    for parent, key in slots:
        value = parent[key]
        euros, cents = value.split(".")
        parent[key] = rng.choice(
            (
                f"{euros},{cents}",
                f"{int(euros):,},{cents}".replace(",", " ", 1) if int(euros) >= 1000 else f"{euros},{cents}",
                float(value) + 0.001,
                float(f"{euros}.{cents[0]}"),
                f"-{value}",
            )
        )
        yield encode(obj)
        parent[key] = value


def _invalid_utf8(data: bytes, rng: random.Random) -> Iterator[bytes]:
    # Inside numeroDossier's value, which every record has: after its first character, so the quote survives.
    start = data.index(b'"numeroDossier":"') + len(b'"numeroDossier":"') + 1
    bad = rng.choice(_BAD_UTF8)
    yield data[:start] + bad + data[start:]
    yield data[:start] + b"\xe9" + data[start:]


def _slots(obj: Any) -> Iterator[tuple[Obj, str]]:
    """Every (object, key) pair of the tree, depth first."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield obj, key
            yield from _slots(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _slots(item)


_DAMAGE: Final[dict[str, Damage]] = {
    "invalid_json": _invalid_json,
    "duplicate_key": _duplicate_key,
    "missing_field": _missing_field,
    "wrong_type": _wrong_type,
    "unknown_code": _unknown_code,
    "bad_date": _bad_date,
    "bad_amount": _bad_amount,
    "invalid_utf8": _invalid_utf8,
}
