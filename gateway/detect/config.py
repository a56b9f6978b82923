"""Deployment configuration of the secondary-movement detector, validated at start-up.

A TOML file shaped like ``data/detector.example.toml``::

    national_retention_days = 1826
    ungranted_without_status = "ignore"

    [rules.SM-2]
    enabled = true
    window_days = 1826
    legal_basis = "..."

    [eurodac_retention.TEMPORARY_PROTECTION]
    years = 1

Every key is checked: unknown keys and ill-typed values are errors raised when the detector is built, never
while events flow. Keys not given keep their defaults. Where the domain notes mark a legal point as not verified
against the Official Journal, the default text says "(to be confirmed)" and the value is configuration rather
than code.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError
from gateway.events.models import EurodacCategory

EURODAC = "Reg. 2024/1358"
TO_BE_CONFIRMED = "(to be confirmed)"

SM1_LEGAL_BASIS = (
    f"{EURODAC} Art. 1(1)(c) (detecting secondary movements) and Art. 40 (hit); "
    f"AVRR element Art. 16-17 (point to be confirmed)"
)
SM2_LEGAL_BASIS = (
    "The Member State's own case files; eligibility rules of its assistance programme on repeated assistance "
    f"{TO_BE_CONFIRMED}"
)
SM3_LEGAL_BASIS = (
    f"Reg. 2017/2226 Art. 16(2) (EES entry record); use of the entry record for this check {TO_BE_CONFIRMED}"
)
SM4_LEGAL_BASIS = (
    f"{EURODAC} Art. 1(1)(c) and Art. 40 (hit); status of the AVRR element Art. 16-17 (point to be confirmed)"
)
NATIONAL_RETENTION_LEGAL_BASIS = f"National law on the retention of return case files {TO_BE_CONFIRMED}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleSettings(_Frozen):
    """Settings every rule has.

    Attributes:
        enabled: Switch the rule on or off.
        legal_basis: The legal basis the alert cites; unverified points say "(to be confirmed)".
    """

    enabled: bool = True
    legal_basis: str = Field(min_length=1)


class SM1Settings(RuleSettings):
    """SM-1: assistance here although a hit shows assistance granted elsewhere (no window: hit retention bounds it)."""

    legal_basis: str = Field(SM1_LEGAL_BASIS, min_length=1)


class SM2Settings(RuleSettings):
    """SM-2: an application here after an assisted departure of the same subject.

    Attributes:
        window_days: Longest gap, in days, from the departure to the application.
    """

    legal_basis: str = Field(SM2_LEGAL_BASIS, min_length=1)
    window_days: int = Field(1826, ge=1, le=36_500)


class SM3Settings(RuleSettings):
    """SM-3: an entry soon after an assisted departure.

    Attributes:
        window_months: Longest gap, in calendar months, from the departure to the entry.
    """

    legal_basis: str = Field(SM3_LEGAL_BASIS, min_length=1)
    window_months: int = Field(12, ge=1, le=1200)


class SM4Settings(RuleSettings):
    """SM-4: parallel applications here and elsewhere.

    Attributes:
        window_days: Largest distance, in days, between the application here and the hit showing an open
            application elsewhere.
    """

    legal_basis: str = Field(SM4_LEGAL_BASIS, min_length=1)
    window_days: int = Field(180, ge=0, le=36_500)


class RulesSettings(_Frozen):
    """Per-rule settings, keyed by rule id in files (``[rules.SM-1]``)."""

    sm1: SM1Settings = Field(default_factory=SM1Settings, alias="SM-1")
    sm2: SM2Settings = Field(default_factory=SM2Settings, alias="SM-2")
    sm3: SM3Settings = Field(default_factory=SM3Settings, alias="SM-3")
    sm4: SM4Settings = Field(default_factory=SM4Settings, alias="SM-4")


_ART_29 = f"{EURODAC} Art. 29"


class Retention(_Frozen):
    """How long the data of one Eurodac category are kept (Reg. 2024/1358 Art. 29).

    Attributes:
        years: Calendar years from the AVRR grant date, or the hit's time when the hit records none.
        legal_basis: Where the period comes from; unverified periods say "(to be confirmed)".
    """

    years: int = Field(ge=0, le=100)
    legal_basis: str = Field(_ART_29, min_length=1)


DEFAULT_EURODAC_RETENTION: dict[EurodacCategory, Retention] = {
    EurodacCategory.APPLICANT: Retention(years=10, legal_basis=_ART_29),
    EurodacCategory.RESETTLEMENT_ADMITTED: Retention(years=5, legal_basis=_ART_29),
    EurodacCategory.NATIONAL_RESETTLEMENT: Retention(years=5, legal_basis=_ART_29),
    EurodacCategory.IRREGULAR_CROSSING: Retention(years=5, legal_basis=_ART_29),
    EurodacCategory.ILLEGAL_STAY: Retention(years=5, legal_basis=_ART_29),
    EurodacCategory.SEARCH_AND_RESCUE: Retention(years=5, legal_basis=_ART_29),
    # Art. 29(9) was read only in part: the shortest plausible period until it is checked.
    EurodacCategory.TEMPORARY_PROTECTION: Retention(years=1, legal_basis=f"{EURODAC} Art. 29(9) {TO_BE_CONFIRMED}"),
    # A category this gateway cannot name: keep the hit no longer than the shortest known period.
    EurodacCategory.UNKNOWN: Retention(years=1, legal_basis=f"Category not known; shortest period {TO_BE_CONFIRMED}"),
}


class DetectorConfig(_Frozen):
    """The detector's configuration.

    Attributes:
        rules: Per-rule switches, windows and legal-basis texts.
        eurodac_retention: Retention per Eurodac category; entries given in a file override the defaults one by
            one, and keys given inside an entry override that entry's defaults one by one.
        national_retention_days: How long the Member State's own events count, in days from the fact's time.
        national_retention_legal_basis: Where that period comes from.
        ungranted_without_status: How to read a hit's AVRR element with no status and ``granted = false``:
            ``"ignore"`` (neither a grant nor an open application) or ``"open"`` (an open application).
    """

    rules: RulesSettings = Field(default_factory=RulesSettings)
    eurodac_retention: dict[EurodacCategory, Retention] = Field(default_factory=lambda: dict(DEFAULT_EURODAC_RETENTION))
    national_retention_days: int = Field(1826, ge=1, le=36_500)
    national_retention_legal_basis: str = Field(NATIONAL_RETENTION_LEGAL_BASIS, min_length=1)
    ungranted_without_status: Literal["ignore", "open"] = "ignore"

    @field_validator("eurodac_retention", mode="before")
    @classmethod
    def _merge_retention(cls, value: Any) -> Any:
        # A file naming one category (or one key of it) must not drop the others' defaults.
        if not isinstance(value, dict):
            return value
        merged: dict[Any, Any] = {k: v.model_dump() for k, v in DEFAULT_EURODAC_RETENTION.items()}
        for key, entry in value.items():
            base = merged.get(key, {})
            merged[key] = {**base, **entry} if isinstance(entry, dict) else entry
        return merged


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        # pydantic marks an invalid dict key with a "[key]" step; the key itself already names the place
        where = ".".join(str(part) for part in error["loc"] if part != "[key]") or "(top level)"
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


def parse_detector_config(data: Any, source: str = "detector configuration") -> DetectorConfig:
    """Validate plain data (as read from TOML) into a ``DetectorConfig``.

    Args:
        data: The parsed file.
        source: What to name in error messages, e.g. the file's path.

    Raises:
        ConfigError: A key is unknown or a value is invalid; the message names every offending key.
    """
    try:
        return DetectorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid detector configuration: {_describe(exc)}") from exc


def load_detector_config(path: Path | None) -> DetectorConfig:
    """Load the detector configuration from a TOML file; the defaults when ``path`` is None.

    Raises:
        ConfigError: The file cannot be read, is not TOML, or a key or value is invalid.
    """
    if path is None:
        return DetectorConfig()
    if path.suffix.lower() != ".toml":
        raise ConfigError(f"{path}: the detector configuration must be a .toml file")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_detector_config(data, str(path))


def example_config_path() -> Path:
    """Path of the example configuration shipped with the package."""
    return Path(__file__).with_name("data") / "detector.example.toml"
