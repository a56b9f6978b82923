"""Configuration of the outbound stage: one section per part, all typed."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.adapters.eurodac.config import EurodacConfig
from gateway.adapters.riat.config import RiatConfig
from gateway.adapters.sis.config import SisConfig
from gateway.errors import ConfigError
from gateway.monitor.config import MonitorConfig

__all__ = ["OutboundConfig"]


class OutboundConfig(BaseModel):
    """What the outbound stage builds, and how.

    Attributes:
        targets: The targets whose outboxes the stage writes (``sis``, ``eurodac``, ``riat``); a target left out
            gets no messages, the rest of the stage runs as usual.
        sis: SIS return alerts (Reg. 2018/1860).
        eurodac: Eurodac assistance updates (Reg. 2024/1358).
        riat: RIAT referrals (case creation and Key Moment 1, with the returnee's consent only).
        monitor: The departure-deadline monitor.
        ees_match: Match EES exits (from ``gateway ees ingest``) to cases.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    targets: tuple[str, ...] = ("sis", "eurodac", "riat")
    sis: SisConfig = Field(default_factory=SisConfig)
    eurodac: EurodacConfig = Field(default_factory=EurodacConfig)
    riat: RiatConfig = Field(default_factory=RiatConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    ees_match: bool = True

    @classmethod
    def load(cls, path: Path | None) -> OutboundConfig:
        """The configuration in a TOML file, or the defaults.

        Raises:
            ConfigError: The file cannot be read or does not describe a valid configuration.
        """
        if path is None:
            return cls()
        try:
            return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
            raise ConfigError(f"outbound configuration {path}: {exc}") from exc
