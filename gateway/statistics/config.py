"""Configuration of the Eurostat return statistics: counting rules and the SDMX data structure.

Every detail the domain notes mark as unverified ([M]/[P]: age classes, sex codes, dataflow and dimension ids, code
lists) is a setting here, with a default marked "(to be confirmed)", never a constant in the counting code. The
verified rules (persons once per reference period, Union/EEA/Swiss citizens and Dublin transfers excluded, rounding
to 5) are settings too, so that a Member State can follow its own reading of the technical guidelines.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError

__all__ = ["AgeClass", "DataflowIds", "SdmxStructure", "StatisticsConfig", "load_statistics_config"]

# The Member States of the Union, the EEA States and Switzerland (alpha-3): their citizens are not third-country
# nationals, so Eurostat's enforcement statistics leave them out (domain notes §4, verified).
EU_EEA_CH = [
    "AUT",
    "BEL",
    "BGR",
    "HRV",
    "CYP",
    "CZE",
    "DNK",
    "EST",
    "FIN",
    "FRA",
    "DEU",
    "GRC",
    "HUN",
    "IRL",
    "ITA",
    "LVA",
    "LTU",
    "LUX",
    "MLT",
    "NLD",
    "POL",
    "PRT",
    "ROU",
    "SVK",
    "SVN",
    "ESP",
    "SWE",
    "ISL",
    "LIE",
    "NOR",
    "CHE",
]


class AgeClass(BaseModel):
    """An age class: completed years in ``[min_years, max_years]`` (``max_years`` None: open-ended)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    min_years: int
    max_years: int | None = None


class DataflowIds(BaseModel):
    """Dataflow ids of the tables of one frequency (to be confirmed against Eurostat's DSD)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ordered: str
    returned: str
    ordered_uam: str
    returned_uam: str


def _alpha2_table() -> dict[str, str]:
    # pycountry follows the ISO 3166 maintenance agency, including renamed and new codes; a hand list goes stale.
    table = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    # Eurostat writes Greece EL and the United Kingdom UK (its own geo convention; to be confirmed for CITIZEN).
    table.update({"GRC": "EL", "GBR": "UK", "XKX": "XK", "RKS": "XK"})
    # ICAO 9303 pseudo-nationalities: stateless, refugees, unspecified (to be confirmed).
    table.update({"XXA": "STLS", "XXB": "STLS", "XXC": "STLS", "XXX": "UNK"})
    return table


class SdmxStructure(BaseModel):
    """The SDMX data structure of the transmitted tables, all of it "(to be confirmed)" against Eurostat's DSD.

    Attributes:
        agency: Maintenance agency of the dataflows and structures.
        version: Version of the dataflows and structures.
        quarterly: Dataflow ids of the quarterly tables (migr_eiord1 / migr_eirtn1).
        annual: Dataflow ids of the annual tables (migr_eiord / migr_eirtn).
        dim_freq, dim_geo, dim_citizen, dim_sex, dim_age, dim_return_type, dim_assistance, dim_destination: Dimension
            ids.
        time_dimension: Id of the time dimension.
        measure: Id of the primary measure.
        dsd_ordered: Id of the data structure of the "ordered to leave" tables (and both UAM tables).
        dsd_returned: Id of the data structure of the "returned" table.
        sex_codes: ``Sex`` value (MALE, FEMALE, UNSPECIFIED, UNKNOWN) -> code.
        age_classes: The age classes, in order; an age in none of them is ``unknown_code``.
        return_type_codes: ``ReturnType`` value -> code.
        assistance_codes: ``assisted``/``non_assisted`` -> code.
        citizenship_codes: ISO 3166-1 alpha-3 (or ICAO) -> code; default alpha-2 from pycountry, Eurostat's EL/UK.
        geo_codes: Reporting Member State (``MemberState``, alpha-2) -> code; unlisted ones pass through.
        unknown_code: The class of every unknown value (its own class, never dropped).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    agency: str = "ESTAT"
    version: str = "1.0"
    quarterly: DataflowIds = DataflowIds(
        ordered="MIGR_EIORD1", returned="MIGR_EIRTN1", ordered_uam="MIGR_EIORD1_UAM", returned_uam="MIGR_EIRTN1_UAM"
    )
    annual: DataflowIds = DataflowIds(
        ordered="MIGR_EIORD", returned="MIGR_EIRTN", ordered_uam="MIGR_EIORD_UAM", returned_uam="MIGR_EIRTN_UAM"
    )
    dim_freq: str = "FREQ"
    dim_geo: str = "GEO"
    dim_citizen: str = "CITIZEN"
    dim_sex: str = "SEX"
    dim_age: str = "AGE"
    dim_return_type: str = "C_RET"
    dim_assistance: str = "ASSIST"
    dim_destination: str = "C_DEST"
    time_dimension: str = "TIME_PERIOD"
    measure: str = "OBS_VALUE"
    dsd_ordered: str = "DSD_MIGR_EIORD"
    dsd_returned: str = "DSD_MIGR_EIRTN"
    sex_codes: dict[str, str] = {"MALE": "M", "FEMALE": "F", "UNSPECIFIED": "UNK", "UNKNOWN": "UNK"}
    age_classes: tuple[AgeClass, ...] = (
        AgeClass(code="Y_LT14", min_years=0, max_years=13),
        AgeClass(code="Y14-17", min_years=14, max_years=17),
        AgeClass(code="Y18-34", min_years=18, max_years=34),
        AgeClass(code="Y_GE35", min_years=35),
    )
    return_type_codes: dict[str, str] = {"VOLUNTARY": "VOL", "ENFORCED": "FORC", "UNKNOWN": "UNK"}
    assistance_codes: dict[str, str] = {"assisted": "ASS", "non_assisted": "NASS"}
    citizenship_codes: dict[str, str] = Field(default_factory=_alpha2_table)
    geo_codes: dict[str, str] = {"GR": "EL"}
    unknown_code: str = "UNK"

    def citizen(self, alpha3: str | None) -> str:
        """The code of a citizenship; unknown and unmapped ones are ``unknown_code``."""
        return self.citizenship_codes.get(alpha3, self.unknown_code) if alpha3 else self.unknown_code

    def age(self, years_low: int | None, years_high: int | None) -> str:
        """The age class of an age known to lie in ``[years_low, years_high]``; ``unknown_code`` if ambiguous."""
        if years_low is None or years_high is None:
            return self.unknown_code
        low, high = self._class_of(years_low), self._class_of(years_high)
        return low if low == high else self.unknown_code

    def _class_of(self, years: int) -> str:
        for cls in self.age_classes:
            if cls.min_years <= years and (cls.max_years is None or years <= cls.max_years):
                return cls.code
        return self.unknown_code


class StatisticsConfig(BaseModel):
    """The counting rules and the data structure.

    Attributes:
        age_reference: The day age is computed at: the last day of the reference period (default, to be confirmed)
            or its first day.
        breakdown_return: When a person returned more than once in a period (counted once), whose breakdown
            (type, assistance, destination) counts: the first return in the period (default) or the last.
        excluded_citizenships: Alpha-3 codes whose holders are not third-country nationals: a person holding any of
            them is left out of every table.
        counted_evidence: Departure evidence showing the authorities' involvement: a departure is "returned
            following an order to leave" only with at least one of these (to be confirmed).
        rounding: Round each published figure to the nearest multiple of this (5, verified); 1 publishes exact counts.
        sender: The sender id in the SDMX message headers (the national authority's eDAMIS id, to be confirmed).
        structure: The SDMX data structure (to be confirmed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    age_reference: Literal["period_end", "period_start"] = "period_end"
    breakdown_return: Literal["first", "last"] = "first"
    excluded_citizenships: frozenset[str] = frozenset(EU_EEA_CH)
    counted_evidence: frozenset[str] = frozenset(
        {"EES_EXIT_RECORD", "SIS_ART6_CONFIRMATION", "CONSULAR_CONFIRMATION", "NATIONAL_BORDER_CHECK", "OTHER"}
    )
    rounding: int = Field(5, ge=1)
    sender: str = "RETURNS_GATEWAY"
    structure: SdmxStructure = SdmxStructure()

    @field_validator("excluded_citizenships", mode="after")
    @classmethod
    def _upper(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(v.upper() for v in value)

    @cached_property
    def fingerprint(self) -> str:
        """A short digest of the configuration, recorded with each build so a changed rule is visible."""
        import hashlib

        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def load_statistics_config(path: Path | None) -> StatisticsConfig:
    """Read a TOML file of ``StatisticsConfig`` fields (None: the defaults).

    Raises:
        ConfigError: The file cannot be read or does not describe a valid configuration.
    """
    if path is None:
        return StatisticsConfig()
    try:
        return StatisticsConfig.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"statistics configuration {path}: {exc}") from exc
