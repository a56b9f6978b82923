"""Explanations for operators: per rule, whether it fires for a subject and why or why not, in sentences.

The sentences come from the same pair checks the detector runs (``rules.Miss``), so an explanation cannot
disagree with detection. They name kinds of fact, dates, Member State codes and Eurodac categories only: a
timeline holds no identity data, and neither does its explanation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gateway.detect.config import DetectorConfig
from gateway.detect.rules import (
    RULES,
    SM1,
    SM2,
    SM3,
    AvrrReading,
    Miss,
    RuleDef,
    Windows,
    evidence,
    is_elsewhere,
    read_avrr,
    windows_of,
)
from gateway.detect.timeline import Fact, FactKind, SubjectTimeline, add_months
from gateway.events.models import AvrrStatus


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    """Whether one rule fires for a subject, and why.

    Attributes:
        rule_id: The rule.
        title: Its title.
        legal_basis: Its configured legal basis.
        enabled: Whether the configuration switches it on.
        fires: Whether it fires on the live facts.
        sentences: Operator-readable sentences: first the matches (``"SM-2 fires: ..."``), then what did not match
            (``"SM-3 does not fire: the departure on 2025-03-02 was not assisted."``).
        evidence_ids: Event ids of the evidence when it fires, sorted.
    """

    rule_id: str
    title: str
    legal_basis: str
    enabled: bool
    fires: bool
    sentences: tuple[str, ...]
    evidence_ids: tuple[str, ...] = ()


def _day(at: dt.datetime) -> str:
    return at.date().isoformat()


_DATE_KINDS = frozenset({FactKind.APPLICATION, FactKind.GRANT, FactKind.REFUSAL})


def _time(fact: Fact) -> str:
    return _day(fact.at) if fact.kind in _DATE_KINDS else f"{fact.at:%Y-%m-%d %H:%M} UTC"


def describe(fact: Fact) -> str:
    """A fact as a noun phrase, e.g. "the assisted departure on 2025-03-02"."""
    day = _day(fact.at)
    kind = fact.kind
    if kind is FactKind.APPLICATION:
        return f"the application here on {day}"
    if kind is FactKind.GRANT:
        return f"the grant here on {day}"
    if kind is FactKind.REFUSAL:
        return f"the refusal here on {day}"
    if kind is FactKind.ASSISTED_DEPARTURE:
        return f"the assisted departure on {day}"
    if kind is FactKind.UNASSISTED_DEPARTURE:
        return f"the departure on {day}"
    if kind is FactKind.ENTRY:
        return f"the entry on {day}"
    hit = fact.hit
    assert hit is not None  # a hit fact always has its details
    return f"the Eurodac hit of {day} from {hit.hit_member_state} (category {hit.category}, {hit.article})"


def _grant(hit_fact: Fact) -> str:
    hit = hit_fact.hit
    assert hit is not None
    assert hit.avrr is not None
    if hit.avrr.granted_on is not None:
        return f"granted by {hit.avrr.member_state} on {hit.avrr.granted_on.isoformat()}"
    return f"granted by {hit.avrr.member_state} by {_day(hit_fact.at)} (no grant date recorded; the hit's date counts)"


def _days(a: dt.date, b: dt.date) -> int:
    return abs((a - b).days)


class _Texts:
    """Sentence fragments for one rule's pairs, with what they need from the configuration."""

    def __init__(self, config: DetectorConfig, own: str) -> None:
        self.config = config
        self.own = own
        self.windows: Windows = windows_of(config)

    def hit_miss(self, hit_fact: Fact, miss: Miss) -> str | None:
        hit = hit_fact.hit
        assert hit is not None
        name = describe(hit_fact)
        if miss is Miss.NO_AVRR:
            return f"{name} carries no AVRR element"
        if miss is Miss.NOT_ELSEWHERE:
            return f"{name} concerns this Member State ({self.own}), not another one"
        assert hit.avrr is not None
        where = hit.avrr.member_state
        if miss is Miss.CLOSED:
            if hit.avrr.status == AvrrStatus.WITHDRAWN:
                return f"{name} records that assistance granted by {where} was withdrawn"
            return f"{name} records that assistance was refused by {where}"
        if miss is Miss.UNREAD:
            return (
                f"{name} records no AVRR status and granted = false, read as neither a grant nor an application "
                f'(ungranted_without_status = "{self.config.ungranted_without_status}")'
            )
        return None

    def pair(self, rule: RuleDef, left: Fact, right: Fact, miss: Miss | None) -> str:
        if rule is SM1:
            return self._sm1(left, right, miss)
        if rule is SM2:
            return self._sm2(left, right, miss)
        if rule is SM3:
            return self._sm3(left, right, miss)
        return self._sm4(left, right, miss)

    def _retention(self, hit_fact: Fact) -> str:
        hit = hit_fact.hit
        assert hit is not None
        entry = self.config.eurodac_retention.get(hit.category)
        kept = f"{entry.years} years, {entry.legal_basis}" if entry is not None else "retention"
        return f"it counts until {_day(hit_fact.expires_at)} ({kept})"

    def _sm1(self, here: Fact, hit_fact: Fact, miss: Miss | None) -> str:
        common = self.hit_miss(hit_fact, miss) if miss is not None else None
        if common is not None:
            return common
        hit_name, here_name = describe(hit_fact), describe(here)
        if miss is None:
            return f"{hit_name} shows assistance {_grant(hit_fact)}, before {here_name}; {self._retention(hit_fact)}"
        if miss is Miss.NOT_A_GRANT:
            return f"{hit_name} shows an open application, not a grant (see SM-4)"
        if miss is Miss.GRANT_NOT_BEFORE:
            return f"{hit_name} shows assistance {_grant(hit_fact)}, not before {here_name} (see SM-4)"
        return f"{hit_name} stopped counting on {_day(hit_fact.expires_at)}, before {here_name}"

    def _sm2(self, departure: Fact, application: Fact, miss: Miss | None) -> str:
        app, dep = describe(application), describe(departure)
        if miss is Miss.NOT_AFTER:
            return f"{app} is not after {dep}"
        gap = _days(application.at.date(), departure.at.date())
        window = self.config.rules.sm2.window_days
        if miss is None:
            return f"{app} is {gap} days after {dep}, within {window} days"
        return f"{app} is {gap} days after {dep}, beyond the window of {window} days"

    def _sm3(self, departure: Fact, entry: Fact, miss: Miss | None) -> str:
        ent, dep = describe(entry), describe(departure)
        if miss is Miss.NOT_AFTER:
            return f"{ent} is not after {dep}"
        months = self.windows.sm3_months
        if miss is None:
            return f"{ent} is within {months} months of {dep}"
        end = _day(add_months(departure.at, months))
        return f"{ent} is after the window of {months} months from {dep}, which ended on {end}"

    def _sm4(self, application: Fact, hit_fact: Fact, miss: Miss | None) -> str:
        common = self.hit_miss(hit_fact, miss) if miss is not None else None
        if common is not None:
            return common
        hit = hit_fact.hit
        assert hit is not None
        assert hit.avrr is not None
        hit_name, app = describe(hit_fact), describe(application)
        reading = read_avrr(hit, self.windows.open_unknown)
        if reading is AvrrReading.OPEN:
            gap = _days(hit_fact.at.date(), application.at.date())
            window = self.windows.sm4_days
            where = hit.avrr.member_state
            if miss is None:
                return f"{hit_name} shows an open application in {where}, {gap} days from {app} (within {window} days)"
            return f"{hit_name} shows an open application in {where}, {gap} days from {app}, beyond {window} days"
        if miss is None:
            return f"{hit_name} shows assistance {_grant(hit_fact)}, on or after {app}, while it was pending"
        return f"{hit_name} shows assistance {_grant(hit_fact)}, before {app}: a grant before it (see SM-1)"


_NONE_LEFT = {
    "SM-1": "there is no application or grant here",
    "SM-2": "there is no assisted departure",
    "SM-3": "there is no assisted departure",
    "SM-4": "there is no application here",
}
_NONE_RIGHT = {
    "SM-1": "no Eurodac hit was received",
    "SM-2": "there is no application here",
    "SM-3": "there is no entry",
    "SM-4": "no Eurodac hit was received",
}


def _context(fact: Fact) -> str:
    if fact.kind is FactKind.UNASSISTED_DEPARTURE:
        return f"{describe(fact)} was not assisted"
    return f"{describe(fact)} is neither an application nor a grant"


def _explain_rule(
    rule: RuleDef, timeline: SubjectTimeline, config: DetectorConfig, now: dt.datetime
) -> RuleExplanation:
    settings = rule.settings(config)
    rid = rule.rule_id
    if not settings.enabled:
        sentence = f"{rid} does not fire: it is switched off in the configuration."
        return RuleExplanation(rid, rule.title, settings.legal_basis, False, False, (sentence,))
    texts = _Texts(config, timeline.member_state)
    live = [f for f in timeline.facts if f.expires_at > now]
    lefts = [f for f in live if f.kind in rule.left]
    rights = [f for f in live if f.kind in rule.right]
    matches: list[str] = []
    misses: list[str] = []
    for left in lefts:
        for right in rights:
            miss = rule.check(left, right, timeline.member_state, texts.windows)
            (matches if miss is None else misses).append(texts.pair(rule, left, right, miss))
    if not lefts:
        misses.append(_NONE_LEFT[rid])
    if not rights:
        misses.append(_NONE_RIGHT[rid])
    if not lefts or not rights:
        # No pair to check: still say what the hits on their own could not have shown.
        misses += [m for h in rights if h.hit is not None and (m := _lone_hit(texts, h)) is not None]
    misses += [_context(f) for f in live if f.kind in rule.context]
    misses += [
        f"{describe(f)} stopped counting on {_day(f.expires_at)}"
        for f in timeline.facts
        if f.expires_at <= now and f.kind in rule.kinds | rule.context
    ]
    found = evidence(rule, live, timeline.member_state, texts.windows)
    # Several pairs can share a fact's reason (one hit without AVRR against two applications): say it once.
    matches, misses = list(dict.fromkeys(matches)), list(dict.fromkeys(misses))
    if found:
        sentences = [f"{rid} fires: {m}." for m in matches] + [f"Not a match: {m}." for m in misses]
    else:
        sentences = [f"{rid} does not fire: {m}." for m in misses]
    ids = tuple(sorted(f.event_id for f in found))
    return RuleExplanation(rid, rule.title, settings.legal_basis, True, bool(found), tuple(sentences), ids)


def _lone_hit(texts: _Texts, hit_fact: Fact) -> str | None:
    hit = hit_fact.hit
    assert hit is not None
    if hit.avrr is None:
        return texts.hit_miss(hit_fact, Miss.NO_AVRR)
    if not is_elsewhere(hit, texts.own):
        return texts.hit_miss(hit_fact, Miss.NOT_ELSEWHERE)
    reading = read_avrr(hit, texts.windows.open_unknown)
    if reading is AvrrReading.CLOSED:
        return texts.hit_miss(hit_fact, Miss.CLOSED)
    if reading is AvrrReading.UNREAD:
        return texts.hit_miss(hit_fact, Miss.UNREAD)
    return None


def explain(timeline: SubjectTimeline, config: DetectorConfig, now: dt.datetime) -> list[RuleExplanation]:
    """Per rule, in id order, whether it fires on the facts live at ``now`` and why or why not.

    Args:
        timeline: The subject's timeline.
        config: The detector configuration.
        now: The instant of the question; facts expired by then are said to have stopped counting.
    """
    return [_explain_rule(rule, timeline, config, now) for rule in RULES]


def render_explanation(timeline: SubjectTimeline, config: DetectorConfig, now: dt.datetime) -> str:
    """The subject's timeline and the explanation of every rule, as plain text for an operator.

    Lists each fact's kind, time, case reference and event id (and, for a hit, its Member State, category and
    AVRR element), then each rule's verdict, legal basis and sentences. No identity data: the timeline has none.
    """
    lines = [f"Subject {timeline.subject_key} (Member State {timeline.member_state}), as of {now:%Y-%m-%d %H:%M} UTC"]
    lines.append("Timeline:")
    if not timeline.facts:
        lines.append("  (no facts)")
    for fact in timeline.facts:
        line = f"  {_time(fact):<20}  {fact.kind.value:<20}  case {fact.case_reference}  event {fact.event_id}"
        if fact.hit is not None:
            line += f"  {_hit_summary(fact)}"
        if fact.expires_at <= now:
            line += f"  (stopped counting on {_day(fact.expires_at)})"
        lines.append(line)
    lines.append("Rules:")
    for item in explain(timeline, config, now):
        verdict = "fires" if item.fires else ("switched off" if not item.enabled else "does not fire")
        lines.append(f"  {item.rule_id} {item.title}: {verdict}")
        lines.append(f"    Legal basis: {item.legal_basis}")
        lines += [f"    {s}" for s in item.sentences]
    return "\n".join(lines) + "\n"


def _hit_summary(fact: Fact) -> str:
    hit = fact.hit
    assert hit is not None
    text = f"from {hit.hit_member_state}, {hit.category}, {hit.article}"
    avrr = hit.avrr
    if avrr is None:
        return text + ", no AVRR element"
    status = str(avrr.status) if avrr.status is not None else "no status"
    granted = "granted" if avrr.granted else "not granted"
    on = f" on {avrr.granted_on.isoformat()}" if avrr.granted_on is not None else ""
    return text + f", AVRR {status} ({granted}{on}) by {avrr.member_state}"
