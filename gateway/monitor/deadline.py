"""When a voluntary-departure period ends, as an instant."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from gateway.errors import ConfigError

__all__ = ["deadline_ms"]


def deadline_ms(last_day: dt.date, member_state: str, zones: dict[str, str]) -> int:
    """Milliseconds since the epoch of the end of ``last_day`` in the deciding Member State: midnight after it.

    The person may leave during the whole last day, local time, so the period ends when the next day begins there
    (a daylight-saving change that night is handled by the zone rules).

    Raises:
        ConfigError: No time zone is configured for the Member State.
    """
    zone = zones.get(member_state)
    if zone is None:
        raise ConfigError(f"no time zone configured for Member State {member_state!r} (monitor zones)")
    midnight = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), tzinfo=zoneinfo.ZoneInfo(zone))
    return int(midnight.timestamp() * 1000)
