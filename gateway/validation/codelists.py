"""Code lists the rules check against, loaded from the data files shipped with the package.

The country list is data (``data/country_codes.csv``), not code, so that a deployment can review and amend it.
Member State codes come from the canonical ``MemberState`` enum (EU 27 + Schengen-associated IS, LI, NO, CH).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gateway.errors import ConfigError
from gateway.events.models import MemberState

MEMBER_STATES: frozenset[MemberState] = frozenset(ms for ms in MemberState if ms is not MemberState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class CountryCodes:
    """Three-letter country codes by use.

    Attributes:
        iso: ISO 3166-1 alpha-3 codes: the only ones valid for a country of return or destination.
        nationality: Codes valid as a nationality (ISO plus ICAO Doc 9303 codes such as XXA stateless).
        issuer: Codes valid as the issuer of a document (ISO plus ICAO codes such as UNO, EUE, D).
        icao_special: The ICAO codes that are not ISO 3166-1.
    """

    iso: frozenset[str]
    nationality: frozenset[str]
    issuer: frozenset[str]
    icao_special: frozenset[str]


def _rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def load_country_codes(path: Path | None = None) -> CountryCodes:
    """Load the country code list; the packaged ``data/country_codes.csv`` unless ``path`` is given.

    Raises:
        ConfigError: The file is missing or a row is malformed.
    """
    try:
        if path is None:
            text = resources.files("gateway.validation").joinpath("data/country_codes.csv").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        rows = _rows(text)
        iso = {r["code"] for r in rows if r["source"] == "ISO"}
        special = {r["code"] for r in rows if r["source"] == "ICAO"}
        nationality = {r["code"] for r in rows if r["nationality"] == "yes"}
        issuer = {r["code"] for r in rows if r["issuer"] == "yes"}
    except (OSError, KeyError, csv.Error) as exc:
        raise ConfigError(f"cannot read the country code list: {exc}") from exc
    if not iso:
        raise ConfigError("the country code list has no ISO 3166-1 codes")
    return CountryCodes(frozenset(iso), frozenset(nationality), frozenset(issuer), frozenset(special))
