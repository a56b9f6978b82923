"""Deployment configuration of the validation rules, validated at start-up.

A file (TOML, JSON, or YAML when PyYAML is installed) or a dict, shaped like::

    [settings]
    clock_skew_seconds = 300
    time_zones = { NL = "Europe/Amsterdam" }

    [rules.VD-001]
    enabled = true
    severity = "ERROR"
    params = { min_days = 7, max_days = 30 }

Every key is checked: unknown keys, unknown rule ids and ill-typed parameters are errors raised when the engine
is built, never while records flow. Rules not named keep their defaults (see ``docs/rules.md``).
"""

from __future__ import annotations

import json
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError
from gateway.events.models import MemberState
from gateway.events.zones import DEFAULT_TIME_ZONES

RULE_ID_PATTERN = r"^[A-Z]+-[0-9]{3}$"


def _check_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


class GlobalSettings(BaseModel):
    """Settings shared by several rules.

    Attributes:
        time_zones: IANA time zone of each Member State's authorities, used only to find the calendar date on
            which an instant falls (e.g. "today", or the day of a departure); defaults cover the capitals.
        default_time_zone: Zone for events whose Member State is UNKNOWN.
        clock_skew_seconds: Tolerance before an instant counts as "in the future".
        vd_length_counts_both_ends: Whether a voluntary-departure period from day F to day L lasts L-F+1 days
            (both ends counted, the default) or L-F days. Used by VD-001 and VD-005.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_zones: dict[MemberState, str] = Field(
        default_factory=lambda: dict(DEFAULT_TIME_ZONES),
        description="IANA time zone per Member State, only to find the calendar date of an instant; "
        "entries given override the defaults one by one.",
    )
    default_time_zone: str = Field("Europe/Brussels", description="Zone for events whose Member State is UNKNOWN.")
    clock_skew_seconds: int = Field(
        300, ge=0, le=86_400, description="Tolerance before an instant counts as in the future or out of order."
    )
    vd_length_counts_both_ends: bool = Field(
        True,
        description="A voluntary-departure period from day F to day L lasts L-F+1 days (true) or L-F days (false); "
        "used by VD-001 and VD-005.",
    )

    @field_validator("time_zones")
    @classmethod
    def _zones_exist(cls, value: dict[MemberState, str]) -> dict[MemberState, str]:
        # A partial mapping in a file overrides the defaults instead of dropping the other Member States.
        merged = {**DEFAULT_TIME_ZONES, **value}
        for name in merged.values():
            _check_zone(name)
        return merged

    @field_validator("default_time_zone")
    @classmethod
    def _default_zone_exists(cls, value: str) -> str:
        return _check_zone(value)


class RuleConfig(BaseModel):
    """One rule's deployment settings; unset fields keep the rule's defaults.

    Attributes:
        enabled: Switch the rule on or off.
        severity: Override the rule's severity.
        params: The rule's parameters; checked against the rule's parameter model when the engine is built.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = None
    severity: Literal["ERROR", "WARNING"] | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ValidationConfig(BaseModel):
    """The validation stage's configuration.

    Attributes:
        programme_catalogue: The programme catalogue file (see ``data/programmes.example.toml``); a relative path
            is taken from the configuration file's folder. Without one, the catalogue rules are off.
        settings: Settings shared by several rules.
        rules: Per-rule settings by rule id.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    programme_catalogue: Path | None = None
    settings: GlobalSettings = Field(default_factory=GlobalSettings)
    rules: dict[str, RuleConfig] = Field(default_factory=dict)

    @field_validator("rules")
    @classmethod
    def _ids_well_formed(cls, value: dict[str, RuleConfig]) -> dict[str, RuleConfig]:
        bad = sorted(k for k in value if not re.fullmatch(RULE_ID_PATTERN, k))
        if bad:
            raise ValueError(f"malformed rule ids: {', '.join(bad)}")
        return value


def read_structured_file(path: Path) -> Any:
    """Parse a TOML, JSON or YAML file into plain data.

    Raises:
        ConfigError: The file cannot be read or parsed, or its format is not supported.
    """
    try:
        text = path.read_text("utf-8")
        suffix = path.suffix.lower()
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            try:
                import yaml  # type: ignore[import-untyped, unused-ignore]
            except ImportError as exc:
                raise ConfigError(f"{path}: YAML configuration needs PyYAML; use TOML or JSON") from exc
            return yaml.safe_load(text)
    except (OSError, tomllib.TOMLDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    raise ConfigError(f"{path}: unsupported configuration format {path.suffix!r} (use .toml, .json or .yaml)")


def load_config(source: Path | str | Mapping[str, Any] | None = None) -> ValidationConfig:
    """Load and validate the validation configuration; defaults when ``source`` is None.

    Raises:
        ConfigError: The file cannot be read, or a key or value is invalid.
    """
    data: Any = {} if source is None else source
    base: Path | None = None
    if isinstance(source, str | Path):
        data = read_structured_file(Path(source))
        base = Path(source).parent
    try:
        config = ValidationConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid validation configuration: {exc}") from exc
    catalogue = config.programme_catalogue
    if base is not None and catalogue is not None and not catalogue.is_absolute():
        config = config.model_copy(update={"programme_catalogue": base / catalogue})
    return config
