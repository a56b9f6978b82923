"""Rules SM-1..SM-4 as pure functions over a subject's facts.

Every rule pairs two kinds of fact (an application here and a hit, a departure and an entry, ...). A pair check
returns None when the pair matches, otherwise a :class:`Miss` saying why not; the rule's evidence is every fact
taking part in a matching pair. The same checks drive detection and explanations, so the two cannot disagree.

Days are UTC calendar days: date-only facts sit at midnight UTC, so comparing their times compares their dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from gateway.detect.config import DetectorConfig, RuleSettings
from gateway.detect.timeline import Fact, FactKind, HitDetails, add_months
from gateway.events.models import AvrrStatus, EurodacCategory


class Windows(NamedTuple):
    """The windows and readings the checks use (built once per configuration).

    Attributes:
        sm2: Longest gap from an assisted departure to an application here.
        sm3_months: Longest gap, in calendar months, from an assisted departure to an entry.
        sm4_days: Largest distance in days between an application here and a hit showing an open one elsewhere.
        open_unknown: Whether an AVRR element with no status and ``granted = false`` reads as an open application.
    """

    sm2: dt.timedelta
    sm3_months: int
    sm4_days: int
    open_unknown: bool


def windows_of(config: DetectorConfig) -> Windows:
    """The windows of a configuration."""
    rules = config.rules
    return Windows(
        dt.timedelta(days=rules.sm2.window_days),
        rules.sm3.window_months,
        rules.sm4.window_days,
        config.ungranted_without_status == "open",
    )


class AvrrReading(StrEnum):
    """What a hit's AVRR element says, as the contract reads it.

    GRANTED, or no status and ``granted``, is a grant; APPLIED is an open application; REFUSED and WITHDRAWN are
    neither; no status and not ``granted`` is unread (or open, by configuration). A status this gateway does not
    know (``UNKNOWN``) is read like a missing one, from ``granted``.
    """

    GRANT = "GRANT"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    UNREAD = "UNREAD"
    ABSENT = "ABSENT"


def read_avrr(hit: HitDetails, open_unknown: bool) -> AvrrReading:
    """What a hit's AVRR element says, as the contract reads it.

    GRANTED, or no status and ``granted``, is a grant; APPLIED is an open application; REFUSED and WITHDRAWN are
    neither; no status and not ``granted`` is unread (or open, by configuration). A status this gateway does
    not know (``UNKNOWN``) is read like a missing one, from ``granted``.
    """
    avrr = hit.avrr
    if avrr is None:
        return AvrrReading.ABSENT
    status = avrr.status
    if status is None or status == AvrrStatus.UNKNOWN:
        if avrr.granted:
            return AvrrReading.GRANT
        return AvrrReading.OPEN if open_unknown else AvrrReading.UNREAD
    if status == AvrrStatus.GRANTED:
        return AvrrReading.GRANT
    if status == AvrrStatus.APPLIED:
        return AvrrReading.OPEN
    return AvrrReading.CLOSED


def grant_day(hit_fact: Fact) -> dt.date:
    """The day a hit's grant counts from: its recorded grant date, else the day of the hit (granted by then)."""
    hit = hit_fact.hit
    if hit is not None and hit.avrr is not None and hit.avrr.granted_on is not None:
        return hit.avrr.granted_on
    return hit_fact.at.date()


def is_elsewhere(hit: HitDetails, own: str) -> bool:
    """Whether a hit concerns another Member State: neither its dataset nor its AVRR element is this one's."""
    if hit.hit_member_state == own:
        return False
    return hit.avrr is None or hit.avrr.member_state != own


class Miss(StrEnum):
    """Why a pair of facts does not match."""

    NO_AVRR = "NO_AVRR"
    NOT_ELSEWHERE = "NOT_ELSEWHERE"
    CLOSED = "CLOSED"
    UNREAD = "UNREAD"
    NOT_A_GRANT = "NOT_A_GRANT"
    GRANT_NOT_BEFORE = "GRANT_NOT_BEFORE"
    HIT_EXPIRED = "HIT_EXPIRED"
    GRANT_BEFORE = "GRANT_BEFORE"
    OUTSIDE_WINDOW = "OUTSIDE_WINDOW"
    NOT_AFTER = "NOT_AFTER"


Check = Callable[[Fact, Fact, str, Windows], Miss | None]
"""A pair check: (left fact, right fact, own Member State, windows) -> None on a match, else why not."""


def _hit_usable(hit: HitDetails, own: str, windows: Windows) -> tuple[AvrrReading, Miss | None]:
    if hit.avrr is None:
        return AvrrReading.ABSENT, Miss.NO_AVRR
    if not is_elsewhere(hit, own):
        return AvrrReading.ABSENT, Miss.NOT_ELSEWHERE
    reading = read_avrr(hit, windows.open_unknown)
    if reading is AvrrReading.CLOSED:
        return reading, Miss.CLOSED
    if reading is AvrrReading.UNREAD:
        return reading, Miss.UNREAD
    return reading, None


def check_sm1(here: Fact, hit_fact: Fact, own: str, windows: Windows) -> Miss | None:
    """SM-1: assistance applied for or granted here (day t) while a live hit shows a grant elsewhere before t."""
    hit = hit_fact.hit
    if hit is None:
        return Miss.NO_AVRR
    reading, miss = _hit_usable(hit, own, windows)
    if miss is not None:
        return miss
    if reading is not AvrrReading.GRANT:
        return Miss.NOT_A_GRANT
    if grant_day(hit_fact) >= here.at.date():
        return Miss.GRANT_NOT_BEFORE
    if hit_fact.expires_at <= here.at:
        return Miss.HIT_EXPIRED
    return None


def check_sm2(departure: Fact, application: Fact, own: str, windows: Windows) -> Miss | None:
    """SM-2: an application here on a later day than an assisted departure, within the window."""
    if departure.at >= application.at:
        return Miss.NOT_AFTER
    if application.at - departure.at > windows.sm2:
        return Miss.OUTSIDE_WINDOW
    return None


def check_sm3(departure: Fact, entry: Fact, own: str, windows: Windows) -> Miss | None:
    """SM-3: an entry after an assisted departure, within the window of calendar months."""
    if entry.at <= departure.at:
        return Miss.NOT_AFTER
    if entry.at > add_months(departure.at, windows.sm3_months):
        return Miss.OUTSIDE_WINDOW
    return None


def check_sm4(application: Fact, hit_fact: Fact, own: str, windows: Windows) -> Miss | None:
    """SM-4: an application here (day t) while a hit shows a parallel application elsewhere.

    Parallel: an open application elsewhere in a hit received within the window of t, or a grant elsewhere dated on
    or after t (granted while ours was pending).
    """
    hit = hit_fact.hit
    if hit is None:
        return Miss.NO_AVRR
    reading, miss = _hit_usable(hit, own, windows)
    if miss is not None:
        return miss
    t = application.at.date()
    if reading is AvrrReading.OPEN:
        return Miss.OUTSIDE_WINDOW if abs((hit_fact.at.date() - t).days) > windows.sm4_days else None
    return Miss.GRANT_BEFORE if grant_day(hit_fact) < t else None


@dataclass(frozen=True, slots=True)
class RuleDef:
    """One rule of the registry.

    Attributes:
        rule_id: ``SM-1`` ... ``SM-4``.
        title: Operator-readable title.
        settings_key: The rule's entry in ``DetectorConfig.rules`` (its switch, windows and legal basis).
        left: Kinds of the pair's first fact.
        right: Kinds of the pair's second fact.
        check: The pair check.
        context: Kinds kept only to explain why the rule does not fire (e.g. departures without assistance).
    """

    rule_id: str
    title: str
    settings_key: str
    left: frozenset[FactKind]
    right: frozenset[FactKind]
    check: Check
    context: frozenset[FactKind] = frozenset()

    @property
    def kinds(self) -> frozenset[FactKind]:
        """Kinds of fact whose arrival can change the rule's evidence."""
        return self.left | self.right

    def settings(self, config: DetectorConfig) -> RuleSettings:
        """The rule's settings in a configuration."""
        settings: RuleSettings = getattr(config.rules, self.settings_key)
        return settings

    def parameters(self, config: DetectorConfig, evidence: Sequence[Fact]) -> dict[str, str]:
        """The windows the rule used, as an alert states them."""
        rules = config.rules
        if self.settings_key == "sm2":
            return {"sm2_window_days": str(rules.sm2.window_days)}
        if self.settings_key == "sm3":
            return {"sm3_window_months": str(rules.sm3.window_months)}
        params = {
            f"eurodac_retention.{c}.years": str(config.eurodac_retention[c].years) for c in _hit_categories(evidence)
        }
        if self.settings_key == "sm4":
            params["sm4_window_days"] = str(rules.sm4.window_days)
            params["ungranted_without_status"] = config.ungranted_without_status
        return params


def _hit_categories(evidence: Sequence[Fact]) -> list[EurodacCategory]:
    return sorted({f.hit.category for f in evidence if f.hit is not None})


_HERE = frozenset({FactKind.APPLICATION, FactKind.GRANT})
_APPLICATION = frozenset({FactKind.APPLICATION})
_HIT = frozenset({FactKind.EURODAC_HIT})
_ASSISTED = frozenset({FactKind.ASSISTED_DEPARTURE})

SM1 = RuleDef(
    "SM-1",
    "Assistance here although another Member State granted it",
    "sm1",
    _HERE,
    _HIT,
    check_sm1,
    frozenset({FactKind.REFUSAL}),
)
SM2 = RuleDef(
    "SM-2",
    "Application for assistance after an assisted departure",
    "sm2",
    _ASSISTED,
    _APPLICATION,
    check_sm2,
    frozenset({FactKind.UNASSISTED_DEPARTURE}),
)
SM3 = RuleDef(
    "SM-3",
    "Entry soon after an assisted departure",
    "sm3",
    _ASSISTED,
    frozenset({FactKind.ENTRY}),
    check_sm3,
    frozenset({FactKind.UNASSISTED_DEPARTURE}),
)
SM4 = RuleDef(
    "SM-4",
    "Parallel applications for assistance here and elsewhere",
    "sm4",
    _APPLICATION,
    _HIT,
    check_sm4,
    frozenset({FactKind.REFUSAL}),
)

RULES: tuple[RuleDef, ...] = (SM1, SM2, SM3, SM4)
"""Every rule, in id order."""

RULES_BY_ID: dict[str, RuleDef] = {r.rule_id: r for r in RULES}


def evidence(rule: RuleDef, facts: Sequence[Fact], own: str, windows: Windows) -> tuple[Fact, ...]:
    """Every fact taking part in any match of the rule, in timeline order; empty when the rule does not fire."""
    lefts = [f for f in facts if f.kind in rule.left]
    if not lefts:
        return ()
    rights = [f for f in facts if f.kind in rule.right]
    check = rule.check
    matched: set[str] = set()
    for left in lefts:
        for right in rights:
            if check(left, right, own, windows) is None:
                matched.add(left.event_id)
                matched.add(right.event_id)
    if not matched:
        return ()
    return tuple(f for f in facts if f.event_id in matched)


def sm1(facts: Sequence[Fact], own: str, windows: Windows) -> tuple[Fact, ...]:
    """SM-1's evidence: hits showing assistance granted elsewhere, and the applications and grants here after it."""
    return evidence(SM1, facts, own, windows)


def sm2(facts: Sequence[Fact], own: str, windows: Windows) -> tuple[Fact, ...]:
    """SM-2's evidence: assisted departures and the applications here after them."""
    return evidence(SM2, facts, own, windows)


def sm3(facts: Sequence[Fact], own: str, windows: Windows) -> tuple[Fact, ...]:
    """SM-3's evidence: assisted departures and the entries soon after them."""
    return evidence(SM3, facts, own, windows)


def sm4(facts: Sequence[Fact], own: str, windows: Windows) -> tuple[Fact, ...]:
    """SM-4's evidence: applications here and the hits showing a parallel application or grant elsewhere."""
    return evidence(SM4, facts, own, windows)
