"""The time zone of each Member State's competent authorities: reference data below every layer that needs it.

The rule stage judges calendar dates in these zones; the connector scaffold proposes one for a new connector.
"""

from __future__ import annotations

from gateway.events.models import MemberState

__all__ = ["DEFAULT_TIME_ZONES"]

# Where the competent authorities sit. Overseas territories in other zones (Canary Islands, Azores, French
# overseas departments) need a deployment override: the zone only decides the calendar date of an instant.
DEFAULT_TIME_ZONES: dict[MemberState, str] = {
    MemberState.AT: "Europe/Vienna",
    MemberState.BE: "Europe/Brussels",
    MemberState.BG: "Europe/Sofia",
    MemberState.HR: "Europe/Zagreb",
    MemberState.CY: "Asia/Nicosia",
    MemberState.CZ: "Europe/Prague",
    MemberState.DK: "Europe/Copenhagen",
    MemberState.EE: "Europe/Tallinn",
    MemberState.FI: "Europe/Helsinki",
    MemberState.FR: "Europe/Paris",
    MemberState.DE: "Europe/Berlin",
    MemberState.GR: "Europe/Athens",
    MemberState.HU: "Europe/Budapest",
    MemberState.IE: "Europe/Dublin",
    MemberState.IT: "Europe/Rome",
    MemberState.LV: "Europe/Riga",
    MemberState.LT: "Europe/Vilnius",
    MemberState.LU: "Europe/Luxembourg",
    MemberState.MT: "Europe/Malta",
    MemberState.NL: "Europe/Amsterdam",
    MemberState.PL: "Europe/Warsaw",
    MemberState.PT: "Europe/Lisbon",
    MemberState.RO: "Europe/Bucharest",
    MemberState.SK: "Europe/Bratislava",
    MemberState.SI: "Europe/Ljubljana",
    MemberState.ES: "Europe/Madrid",
    MemberState.SE: "Europe/Stockholm",
    MemberState.IS: "Atlantic/Reykjavik",
    MemberState.LI: "Europe/Vaduz",
    MemberState.NO: "Europe/Oslo",
    MemberState.CH: "Europe/Zurich",
}
