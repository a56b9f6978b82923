"""Comparing what the gateway's processes judged with what one uninterrupted in-process run judges.

A verdict is, per canonical event, the rule ids of its warnings, and the set of dead-lettered records. The cross-event
rules make verdicts depend on each case's history, so equal verdicts after kill -9, restarts and partitions moving
show the case states survived them exactly.

``probe_records`` makes one case whose later records are judged differently with and without its history: an
extension whose previous last day is not the case's (VD-009, a warning) and a departure before the decision
(DEP-002, an error: dead-lettered).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from gateway.codec.codec import EventCodec
from gateway.config import GatewaySettings
from gateway.connectors.base import Fact
from gateway.dlq import headers as H
from gateway.events import models as m
from gateway.pipeline.outcome import Outcome
from gateway.samples.stories import CaseStory, story
from tests.integration.support.topics import read_all


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Per event id, the sorted rule ids of its warnings (and how often the event occurs); the dead-lettered bytes.

    Attributes:
        warnings: Event id -> sorted warning rule ids.
        events: Event id -> how many times it occurs.
        dead: Dead-lettered record bytes -> how many times.
    """

    warnings: dict[str, list[str]]
    events: Counter[str]
    dead: Counter[bytes]


def reference(outcomes: Iterable[Outcome], codec: EventCodec) -> Verdicts:
    """The verdicts of outcomes computed in process."""
    warnings: dict[str, list[str]] = {}
    events: Counter[str] = Counter()
    dead: Counter[bytes] = Counter()
    for outcome in outcomes:
        if outcome.dead_letter is not None:
            dead[outcome.dead_letter.record.data] += 1
        for e in outcome.events:
            decoded = codec.decode(e.value)
            warnings[str(decoded.event_id)] = sorted(w.rule_id for w in decoded.validation_warnings)
            events[str(decoded.event_id)] += 1
    return Verdicts(warnings, events, dead)


def observed(bootstrap: str, settings: GatewaySettings, connector: str, codec: EventCodec) -> Verdicts:
    """The verdicts on the canonical topic and the connector's dead-letter queue (read_committed)."""
    warnings: dict[str, list[str]] = {}
    events: Counter[str] = Counter()
    for message in read_all(bootstrap, settings.topics.canonical, timeout=60):
        decoded = codec.decode(message.value())
        warnings[str(decoded.event_id)] = sorted(w.rule_id for w in decoded.validation_warnings)
        events[str(decoded.event_id)] += 1
    dead = Counter(m.value() or b"" for m in read_all(bootstrap, settings.topics.dlq(connector), timeout=60))
    return Verdicts(warnings, events, dead)


def assert_same_verdicts(got: Verdicts, want: Verdicts) -> None:
    """Exactly once, and judged exactly as the reference judged."""
    repeated = {i: n for i, n in got.events.items() if n > want.events.get(i, 0)}
    assert not repeated, f"{len(repeated)} events repeated or not in the reference, e.g. {list(repeated.items())[:3]}"
    missing = {i: n for i, n in want.events.items() if got.events.get(i, 0) < n}
    assert not missing, f"{len(missing)} events missing, e.g. {list(missing)[:3]}"
    differ = [(i, want.warnings.get(i), w) for i, w in got.warnings.items() if want.warnings.get(i) != w]
    assert not differ, f"{len(differ)} events judged otherwise than by one process, e.g. {differ[:3]}"
    assert got.dead == want.dead, (
        f"dead letters differ: {sum((got.dead - want.dead).values())} extra, "
        f"{sum((want.dead - got.dead).values())} missing, e.g. {list((got.dead ^ want.dead).elements())[:2]}"
    )
    assert any(want.warnings.values()), "no warnings at all: the comparison shows nothing"


@dataclass(frozen=True, slots=True)
class Probe:
    """One case's records: its decision first, then two whose verdicts depend on that decision being known.

    Attributes:
        case_reference: The probe case.
        decision: The record of the return decision.
        later: An extension from a wrong previous last day (VD-009) and a departure before the decision (DEP-002).
    """

    case_reference: str
    decision: bytes
    later: tuple[bytes, bytes]


def probe_records(connector: Any, index: int = 987_653) -> Probe:
    """A probe case far from the sample stories' case numbers, rendered in the connector's format."""
    base: CaseStory = story(index, seed=4242, member_state=connector.config.member_state)
    decision = next(f for f in base.facts if isinstance(f.payload, m.ReturnDecisionIssued))
    issued = decision.payload
    assert isinstance(issued, m.ReturnDecisionIssued)
    last = issued.voluntary_departure.last_day
    assert last is not None, "the probe needs a decision that granted a period"
    noon = dt.datetime.combine(issued.decision_date, dt.time(12), tzinfo=dt.UTC)
    extension = Fact(
        base.case_reference,
        base.person_ref,
        noon + dt.timedelta(days=3),
        m.VoluntaryDepartureExtended(
            decision_reference=issued.decision_reference,
            new_last_day=last + dt.timedelta(days=14),
            previous_last_day=last - dt.timedelta(days=3),  # not the case's last day: VD-009 with history
            reason=m.ExtensionReason.CHILDREN_ATTENDING_SCHOOL,
        ),
    )
    departure = Fact(
        base.case_reference,
        base.person_ref,
        noon - dt.timedelta(days=6),
        m.DepartureConfirmed(
            departed_at=noon - dt.timedelta(days=6),  # before the decision: DEP-002 with history
            border_crossing_point="FRA-AIRPORT",
            evidence=(m.DepartureEvidence.EES_EXIT_RECORD,),
            return_type=m.ReturnType.VOLUNTARY,
            assisted=False,
            destination_country=issued.country_of_return,
            decision_reference=issued.decision_reference,
        ),
    )
    rng = random.Random(index)

    def render(fact: Fact) -> bytes:
        (record,) = connector.render(replace(base, facts=(fact,)), rng)
        return bytes(record.data)

    return Probe(base.case_reference, render(decision), (render(extension), render(departure)))


def assert_probe_judged_with_history(
    bootstrap: str, settings: GatewaySettings, connector: str, probe: Probe, codec: EventCodec
) -> None:
    """The probe's later records got the findings only its history gives (asserted apart, to read plainly)."""
    extension, departure = probe.later
    events = [codec.decode(m.value()) for m in read_all(bootstrap, settings.topics.canonical, timeout=60)]
    (extended,) = [
        e
        for e in events
        if e.case_reference == probe.case_reference and e.event_type == m.EventType.VOLUNTARY_DEPARTURE_EXTENDED
    ]
    assert [w.rule_id for w in extended.validation_warnings] == ["VD-009"]
    dead = read_all(bootstrap, settings.topics.dlq(connector), timeout=60)
    (rejected,) = [msg for msg in dead if msg.value() == departure]
    assert H.as_text(rejected.headers())[H.RULE_IDS] == "DEP-002"
    assert not any(msg.value() == extension for msg in dead)
