"""``observe``: one canonical event in, the subject's next timeline and any alerts out. Pure and cheap.

It runs for every canonical event, so the common paths do as little as possible: an event type no rule needs
returns at once with the same timeline object; an event only evaluates the enabled rules its fact can change;
nothing is validated (the events are already validated models) and nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from gateway.detect.alerts import SecondaryMovementSuspected, build_alert
from gateway.detect.config import DetectorConfig
from gateway.detect.plan import plan_of
from gateway.detect.rules import evidence
from gateway.detect.timeline import (
    FACT_EVENT_TYPES,
    EmittedAlert,
    SubjectTimeline,
    expire,
    fact_of,
    with_fact,
)
from gateway.events.models import CaseEvent

NO_ALERTS: tuple[SecondaryMovementSuspected, ...] = ()


class Observation(NamedTuple):
    """What one event did to a subject.

    Attributes:
        timeline: The subject's timeline after the event; None when nothing is left to keep (drop the entry).
        alerts: Alerts to emit, in rule order.
        expires_at: When the whole entry may be dropped (the latest fact expiry); None with no timeline.
    """

    timeline: SubjectTimeline | None
    alerts: tuple[SecondaryMovementSuspected, ...]
    expires_at: dt.datetime | None


def _rule_id(emitted: EmittedAlert) -> str:
    return emitted.rule_id


def _unchanged(timeline: SubjectTimeline | None) -> Observation:
    return Observation(timeline, NO_ALERTS, None if timeline is None else timeline.expires_at)


def observe(
    timeline: SubjectTimeline | None,
    event: CaseEvent,
    config: DetectorConfig,
    *,
    detected_at: dt.datetime | None = None,
) -> Observation:
    """Fold one event into a subject's timeline and emit the alerts it brings new evidence to.

    Facts expired at the event's time are dropped first (event time, never the wall clock). A rule whose
    evidence set then holds an event id missing from the last alert emitted for it emits a new alert, which
    supersedes that one; a set that only shrank emits nothing, and an event seen before adds nothing.

    Args:
        timeline: The subject's timeline before the event, or None for a subject not seen (or expired).
        event: The canonical event; its ``subject_key`` is the timeline's.
        config: The detector configuration.
        detected_at: The alerts' informational ``detected_at``; defaults to the event's ``recorded_at`` so that
            the result depends on the events alone.

    Returns:
        The next timeline, the alerts, and when the entry expires.
    """
    if event.event_type not in FACT_EVENT_TYPES:
        return _unchanged(timeline)
    plan = plan_of(config)
    fact = fact_of(event, plan.retention)
    if fact is None or fact.kind not in plan.kept:
        return _unchanged(timeline)
    now = fact.occurred_at
    if timeline is not None:
        timeline = expire(timeline, now)
    if fact.expires_at <= now:
        # Outside its retention already (e.g. a hit on a dataset past Art. 29): nothing to keep or match.
        return _unchanged(timeline)
    before = timeline if timeline is not None else SubjectTimeline(event.subject_key, event.member_state)
    after = with_fact(before, fact)
    if after is before:
        return _unchanged(timeline)

    alerts: list[SecondaryMovementSuspected] = []
    emitted = after.emitted
    for rule in plan.rules_by_kind[fact.kind]:
        found = evidence(rule, after.facts, after.member_state, plan.windows)
        if not found:
            continue
        last = after.last_alert(rule.rule_id)
        if last is not None and all(f.event_id in last.evidence_ids for f in found):
            continue
        settings = rule.settings(config)
        alert = build_alert(
            rule_id=rule.rule_id,
            title=rule.title,
            legal_basis=settings.legal_basis,
            subject_key=after.subject_key,
            member_state=after.member_state,
            facts=found,
            parameters=rule.parameters(config, found),
            supersedes=None if last is None else last.alert_id,
            detected_at=event.recorded_at if detected_at is None else detected_at,
        )
        alerts.append(alert)
        record = EmittedAlert(rule.rule_id, alert.alert_id, alert.evidence_ids)
        # kept in rule-id order, so the timeline does not depend on which rule happened to emit first
        emitted = tuple(sorted((*(e for e in emitted if e.rule_id != rule.rule_id), record), key=_rule_id))
    if alerts:
        after = SubjectTimeline(after.subject_key, after.member_state, after.facts, emitted)
    return Observation(after, tuple(alerts), after.expires_at)
