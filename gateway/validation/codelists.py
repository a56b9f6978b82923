"""Code lists the rules check against, loaded from the data files shipped with the package.

The country list is data (``data/country_codes.csv``), not code, so that a deployment can review and amend it.
Member State codes come from the canonical ``MemberState`` enum (EU 27 + Schengen-associated IS, LI, NO, CH).
Which states' nationals enjoy free movement (``data/free_movement.csv``: EU, EEA, CH) and which codes stand for
the same country (``data/code_aliases.csv``: D for DEU, RKS for XKX) are data too.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

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
        same_as: Code -> the code of the same country it stands for (``D`` -> ``DEU``, ``RKS`` -> ``XKX``).
        free_movement: Alpha-3 code -> membership (``EU``, ``EEA`` or ``CH``) of the states whose nationals are
            not third-country nationals under Directive 2008/115/EC Art. 3(1).
        member_state_codes: The alpha-3 code of each Member State of the canonical ``MemberState`` enum.
    """

    iso: frozenset[str]
    nationality: frozenset[str]
    issuer: frozenset[str]
    icao_special: frozenset[str]
    same_as: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    free_movement: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    member_state_codes: Mapping[MemberState, str] = field(default_factory=lambda: MappingProxyType({}))

    def canonical(self, code: str) -> str:
        """The code a country is compared by: ``D`` is ``DEU``, ``RKS`` is ``XKX``; other codes are themselves."""
        return self.same_as.get(code, code)


def _rows(text: str) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def _read(path: Path | None, packaged: str) -> str:
    if path is None:
        return resources.files("gateway.validation").joinpath(f"data/{packaged}").read_text("utf-8")
    return path.read_text("utf-8")


def load_country_codes(
    path: Path | None = None, *, aliases: Path | None = None, free_movement: Path | None = None
) -> CountryCodes:
    """Load the country code lists; the packaged files under ``data/`` unless paths are given.

    Args:
        path: The country code list (``country_codes.csv``).
        aliases: Codes standing for the same country (``code_aliases.csv``).
        free_movement: States whose nationals enjoy free movement, with their membership (``free_movement.csv``).

    Raises:
        ConfigError: A file is missing, a row is malformed, or a Member State has no or two rows.
    """
    try:
        rows = _rows(_read(path, "country_codes.csv"))
        iso = {r["code"] for r in rows if r["source"] == "ISO"}
        special = {r["code"] for r in rows if r["source"] == "ICAO"}
        nationality = {r["code"] for r in rows if r["nationality"] == "yes"}
        issuer = {r["code"] for r in rows if r["issuer"] == "yes"}
        same_as = {r["code"]: r["same_as"] for r in _rows(_read(aliases, "code_aliases.csv"))}
        movement_rows = _rows(_read(free_movement, "free_movement.csv"))
        movement = {r["code"]: r["membership"] for r in movement_rows}
        # Empty for a State the canonical MemberState enum does not know yet (an accession before the schema).
        states = [(MemberState(r["member_state"]), r["code"]) for r in movement_rows if r["member_state"]]
    except (OSError, KeyError, ValueError, csv.Error) as exc:
        raise ConfigError(f"cannot read the country code lists: {exc}") from exc
    if not iso:
        raise ConfigError("the country code list has no ISO 3166-1 codes")
    by_state = dict(states)
    # Every Member State needs its alpha-3 code, once: without it "return to the deciding State" cannot be judged.
    missing = sorted(ms for ms in MEMBER_STATES if ms not in by_state)
    if missing or len(by_state) != len(states):
        raise ConfigError(f"the free-movement list needs exactly one row per Member State (missing: {missing})")
    return CountryCodes(
        frozenset(iso),
        frozenset(nationality),
        frozenset(issuer),
        frozenset(special),
        MappingProxyType(same_as),
        MappingProxyType(movement),
        MappingProxyType(by_state),
    )
