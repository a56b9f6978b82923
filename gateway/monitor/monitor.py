"""The per-decision state machine of the departure-deadline monitor.

One timer per open return decision with a voluntary-departure period, due at the end of the period's last day in
the deciding Member State plus the allowed lateness. An extension moves it, a suspension or postponement pauses it
(``RESUMED`` sets it again), and a departure, a withdrawal, an annulment, a residence right or a non-return
recorded by someone else cancels it. When it fires, `fire` writes one ``NonReturnRecorded`` event whose id is fixed
by the decision and the last day, so a fire that is redone after a crash yields the same event, and the decision is
done for that period.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.events.models import (
    CaseEvent,
    DecisionStatus,
    DepartureConfirmed,
    EventType,
    NonReturnRecorded,
    NonReturnSource,
    ReturnDecisionIssued,
    ReturnDecisionStatusChanged,
    Source,
    VoluntaryDepartureExtended,
)
from gateway.monitor.config import MonitorConfig
from gateway.monitor.deadline import deadline_ms

__all__ = [
    "MONITOR_NAMESPACE",
    "MonitorDecision",
    "MonitorStep",
    "MonitorSubjectState",
    "TimerChange",
    "fire",
    "monitor_step",
    "timer_name",
]

MONITOR_NAMESPACE = uuid.UUID("3f4c39b5-8a5e-5d43-9f3e-7d0c2b1e6a10")
"""uuid5 namespace of the monitor's event ids. Never change it: the ids make a redone fire the same event."""

Status = Literal["OPEN", "PAUSED", "DONE", "NO_PERIOD"]
_CLOSING = frozenset({DecisionStatus.WITHDRAWN, DecisionStatus.ANNULLED, DecisionStatus.RESIDENCE_RIGHT_GRANTED})
_PAUSING = frozenset({DecisionStatus.SUSPENDED, DecisionStatus.ENFORCEMENT_POSTPONED})


class MonitorDecision(BaseModel):
    """What the monitor knows of one return decision.

    Attributes:
        member_state: The deciding Member State.
        case_reference: The national case.
        decision_reference: The decision.
        last_day: Last day of the voluntary-departure period, extensions included; None when none was granted.
        status: OPEN (timer set), PAUSED (suspended or postponed), DONE (departed, closed or non-return
            recorded for ``last_day``), NO_PERIOD (no voluntary departure: nothing to watch).
        fired_for: The last day whose non-return the monitor recorded, if it did.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_state: str
    case_reference: str
    decision_reference: str
    last_day: dt.date | None = None
    status: Status = "NO_PERIOD"
    fired_for: dt.date | None = None


class MonitorSubjectState(BaseModel):
    """The monitor's decisions of one subject."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decisions: tuple[MonitorDecision, ...] = ()

    def find(self, member_state: str, decision_reference: str) -> MonitorDecision | None:
        """The decision, if known."""
        for d in self.decisions:
            if d.member_state == member_state and d.decision_reference == decision_reference:
                return d
        return None

    def with_decision(self, decision: MonitorDecision) -> MonitorSubjectState:
        """The state with ``decision`` added or replaced."""
        rest = tuple(
            d
            for d in self.decisions
            if (d.member_state, d.decision_reference) != (decision.member_state, decision.decision_reference)
        )
        return MonitorSubjectState(decisions=(*rest, decision))


@dataclass(frozen=True, slots=True)
class TimerChange:
    """Set (``due_ms``) or cancel (None) the timer ``name``."""

    name: str
    due_ms: int | None


@dataclass(frozen=True, slots=True)
class MonitorStep:
    """The outcome of one event: the new state and the timer changes to make."""

    state: MonitorSubjectState
    timers: tuple[TimerChange, ...] = ()


def timer_name(member_state: str, decision_reference: str) -> str:
    """The store timer of a decision's deadline."""
    return f"deadline|{member_state}|{decision_reference}"


def _due(decision: MonitorDecision, config: MonitorConfig) -> int:
    assert decision.last_day is not None
    return deadline_ms(decision.last_day, decision.member_state, config.zones) + config.allowed_lateness_ms


def _set(decision: MonitorDecision, config: MonitorConfig) -> TimerChange:
    return TimerChange(timer_name(decision.member_state, decision.decision_reference), _due(decision, config))


def _cancel(decision: MonitorDecision) -> TimerChange:
    return TimerChange(timer_name(decision.member_state, decision.decision_reference), None)


def monitor_step(state: MonitorSubjectState | None, event: CaseEvent, config: MonitorConfig) -> MonitorStep:
    """Apply one canonical event of the subject; events the monitor does not read leave everything as it was."""
    state = state or MonitorSubjectState()
    p, ms = event.payload, str(event.member_state)
    if isinstance(p, ReturnDecisionIssued):
        return _issued(state, event, p, config)
    if isinstance(p, VoluntaryDepartureExtended):
        known = state.find(ms, p.decision_reference)
        if known is None or (known.status == "DONE" and known.fired_for is None):
            return MonitorStep(state)
        # A late extension after the monitor fired reopens the decision for the new period: the earlier
        # non-return stays recorded, the new period is watched.
        if known.last_day is not None and p.new_last_day <= known.last_day and known.status != "NO_PERIOD":
            return MonitorStep(state)
        status: Status = "PAUSED" if known.status == "PAUSED" else "OPEN"
        moved = known.model_copy(update={"last_day": p.new_last_day, "status": status})
        timers = (_set(moved, config),) if status == "OPEN" else ()
        return MonitorStep(state.with_decision(moved), timers)
    if isinstance(p, ReturnDecisionStatusChanged):
        return _status(state, ms, p, config)
    if isinstance(p, DepartureConfirmed):
        return _close_departed(state, event, p)
    if isinstance(p, NonReturnRecorded) and p.source is not NonReturnSource.MONITOR:
        known = state.find(ms, p.decision_reference)
        if known is None or known.status in ("DONE", "NO_PERIOD"):
            return MonitorStep(state)
        done = known.model_copy(update={"status": "DONE"})
        return MonitorStep(state.with_decision(done), (_cancel(known),))
    return MonitorStep(state)


def _issued(
    state: MonitorSubjectState, event: CaseEvent, p: ReturnDecisionIssued, config: MonitorConfig
) -> MonitorStep:
    ms = str(event.member_state)
    known = state.find(ms, p.decision_reference)
    if known is not None and known.status == "DONE":
        return MonitorStep(state)  # a correction of a decision already settled changes nothing here
    last_day = _last_day(p)
    if last_day is None:
        decision = MonitorDecision(
            member_state=ms, case_reference=event.case_reference, decision_reference=p.decision_reference
        )
        timers = (_cancel(decision),) if known is not None and known.status == "OPEN" else ()
        return MonitorStep(state.with_decision(decision), timers)
    if known is not None and known.last_day is not None and known.last_day > last_day:
        last_day = known.last_day  # an extension already read outlives a re-sent original decision
    paused = config.suspension_pauses and (p.suspended or p.enforcement_postponed)
    decision = MonitorDecision(
        member_state=ms,
        case_reference=event.case_reference,
        decision_reference=p.decision_reference,
        last_day=last_day,
        status="PAUSED" if paused else "OPEN",
    )
    timers = (_cancel(decision),) if paused else (_set(decision, config),)
    return MonitorStep(state.with_decision(decision), timers)


def _last_day(p: ReturnDecisionIssued) -> dt.date | None:
    vd = p.voluntary_departure
    if not vd.granted:
        return None
    if vd.last_day is None and vd.first_day is not None and vd.length_days:
        # Some systems record the period as a first day and a length only: the last day is inclusive.
        return vd.first_day + dt.timedelta(days=vd.length_days - 1)
    return vd.last_day


def _status(state: MonitorSubjectState, ms: str, p: ReturnDecisionStatusChanged, config: MonitorConfig) -> MonitorStep:
    known = state.find(ms, p.decision_reference)
    if known is None or known.status in ("DONE", "NO_PERIOD"):
        return MonitorStep(state)
    if p.status in _CLOSING:
        done = known.model_copy(update={"status": "DONE"})
        return MonitorStep(state.with_decision(done), (_cancel(known),))
    if p.status in _PAUSING and config.suspension_pauses and known.status == "OPEN":
        paused = known.model_copy(update={"status": "PAUSED"})
        return MonitorStep(state.with_decision(paused), (_cancel(known),))
    if p.status is DecisionStatus.RESUMED and known.status == "PAUSED":
        resumed = known.model_copy(update={"status": "OPEN"})
        return MonitorStep(state.with_decision(resumed), (_set(resumed, config),))
    return MonitorStep(state)


def _close_departed(state: MonitorSubjectState, event: CaseEvent, p: DepartureConfirmed) -> MonitorStep:
    ms = str(event.member_state)
    if p.decision_reference is not None:
        targets: Sequence[MonitorDecision] = [d for d in (state.find(ms, p.decision_reference),) if d is not None]
    else:
        # A departure that names no decision ends every decision of its case: the person has left.
        targets = [d for d in state.decisions if d.member_state == ms and d.case_reference == event.case_reference]
    timers: list[TimerChange] = []
    for d in targets:
        if d.status in ("OPEN", "PAUSED"):
            timers.append(_cancel(d))
        if d.status != "DONE":
            state = state.with_decision(d.model_copy(update={"status": "DONE"}))
    return MonitorStep(state, tuple(timers))


def fire(
    state: MonitorSubjectState,
    name: str,
    subject_key: str,
    now: dt.datetime,
    config: MonitorConfig,
    version: str,
) -> tuple[MonitorSubjectState, CaseEvent | None]:
    """The timer ``name`` came due: the non-return event, once, and the decision done for its period.

    A timer whose decision is no longer open (a cancel that lost a race with a restart) fires nothing.

    Args:
        state: The subject's monitor state.
        name: The timer's name (`timer_name`).
        subject_key: The subject's key.
        now: The monitor's time, recorded as the event's ``recorded_at``.
        config: The monitor's configuration.
        version: The gateway's version, recorded in the event's source.
    """
    decision = next(
        (d for d in state.decisions if timer_name(d.member_state, d.decision_reference) == name),
        None,
    )
    if decision is None or decision.status != "OPEN" or decision.last_day is None:
        return state, None
    end = dt.datetime.fromtimestamp(
        deadline_ms(decision.last_day, decision.member_state, config.zones) / 1000, tz=dt.UTC
    )
    event_id = uuid.uuid5(
        MONITOR_NAMESPACE,
        f"{decision.member_state}|{decision.case_reference}|{decision.decision_reference}|{decision.last_day}",
    )
    event = CaseEvent(
        event_id=event_id,
        event_type=EventType.NON_RETURN_RECORDED,
        occurred_at=end,
        recorded_at=now,
        member_state=decision.member_state,
        source=Source(connector=config.connector_name, version=version),
        case_reference=decision.case_reference,
        subject_key=subject_key,
        correlation_id=f"monitor:{event_id}",
        payload=NonReturnRecorded(
            decision_reference=decision.decision_reference,
            period_last_day=decision.last_day,
            source=NonReturnSource.MONITOR,
        ),
    )
    done = decision.model_copy(update={"status": "DONE", "fired_for": decision.last_day})
    return state.with_decision(done), event
