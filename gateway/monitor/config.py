"""Configuration of the departure-deadline monitor."""

from __future__ import annotations

import zoneinfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_ZONES", "MonitorConfig"]

DEFAULT_ZONES: dict[str, str] = {
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "HR": "Europe/Zagreb",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "GR": "Europe/Athens",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "LV": "Europe/Riga",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "SK": "Europe/Bratislava",
    "SI": "Europe/Ljubljana",
    "ES": "Europe/Madrid",
    "SE": "Europe/Stockholm",
    "IS": "Atlantic/Reykjavik",
    "LI": "Europe/Vaduz",
    "NO": "Europe/Oslo",
    "CH": "Europe/Zurich",
}
"""The mainland time zone of each Member State. A State whose deciding authorities sit in another zone (the Azores,
the Canary Islands ...) sets its own in ``MonitorConfig.zones``."""


class MonitorConfig(BaseModel):
    """How the monitor decides that a voluntary-departure period ended without departure.

    Attributes:
        enabled: Run the monitor at all.
        allowed_lateness_s: How long after the end of the last day the monitor waits before it records the
            non-return: an extension, a suspension or a departure that happened in time but reaches the gateway
            late (national systems export in batches) still cancels the timer within this margin.
        zones: Member State code -> IANA time zone; the period ends at midnight after its last day there.
        suspension_pauses: A suspended or postponed decision's timer is paused until enforcement resumes. Whether
            a suspension also prolongs the period is national law (to be confirmed per State): the monitor does not
            prolong it; a national extension does.
        legal_basis: Cited on the non-return events the monitor writes.
        connector_name: The ``source.connector`` of those events.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    allowed_lateness_s: float = Field(default=6 * 3600.0, ge=0)
    zones: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ZONES))
    suspension_pauses: bool = True
    legal_basis: str = "Directive 2008/115/EC Art. 7(1); Reg. 2018/1860 Art. 7(1)"
    connector_name: str = "departure-monitor"

    @field_validator("zones")
    @classmethod
    def _real_zones(cls, value: dict[str, str]) -> dict[str, str]:
        bad = []
        for state, zone in value.items():
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                bad.append(f"{state}={zone}")
        if bad:
            raise ValueError(f"unknown time zones: {sorted(bad)}")
        return value

    @property
    def allowed_lateness_ms(self) -> int:
        """``allowed_lateness_s`` in milliseconds."""
        return int(self.allowed_lateness_s * 1000)
