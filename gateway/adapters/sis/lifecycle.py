"""The life of a subject's SIS return alerts, one canonical event at a time (pure).

One alert per return decision, keyed by issuing Member State and decision reference (point (l)). The rules:

* ``ReturnDecisionIssued``: enter the alert (Art. 3), unless the decision carries an exemption the configuration
  honours (detained until removal, enforced at once at the border): the alert is then *withheld*. A second decision
  with the same reference is a correction: an update if alert data changed, else nothing.
* ``ReturnDecisionStatusChanged``: SUSPENDED / ENFORCEMENT_POSTPONED set point (y), RESUMED clears it: an update at
  once (Art. 3(5)). WITHDRAWN, ANNULLED, RESIDENCE_RIGHT_GRANTED delete the alert (Art. 14). DETENTION_ENDED enters
  a withheld alert at once (Art. 3).
* ``VoluntaryDepartureExtended``: a new last day is an update at once (Art. 3(4)); the same last day is nothing.
* ``DepartureConfirmed``: confirmation of return (Art. 6), then deletion (Art. 14), then, with an entry ban, the
  refusal-of-entry alert (Art. 6(1) second subparagraph, Reg. 2018/1861 Art. 24) as a separate message. A departure
  that SIS itself confirmed (evidence ``SIS_ART6_CONFIRMATION``) is not confirmed back. A departure naming no decision
  applies to the subject's one open alert, or to none when there are several.
* ``NonReturnRecorded`` from the gateway's monitor or a national check: a non-return message (Art. 7), once per last
  day. One that came from SIS (``SIS_ART7_NOTIFICATION``) is not echoed back.

An event that sends nothing says why (:class:`SkipReason`), so the service can count and log it. A deleted alert
stays as a small tombstone (references and status, no personal data) so that a replayed event does nothing; see
:func:`prune_closed`. The state holds only simple types so that it can be persisted as Avro.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gateway.adapters.sis.config import ExemptionCode, SisConfig
from gateway.adapters.sis.messages import (
    AlertCreate,
    AlertDelete,
    AlertUpdate,
    ConfirmationOfReturn,
    DeletionGround,
    EntryBanAlert,
    IdentityData,
    LegalGroundCode,
    MarkerCode,
    NonReturn,
    SisMessage,
    alert_data,
    identity_data,
    identity_paths,
    read_decision,
)
from gateway.events.models import (
    CaseEvent,
    DecisionStatus,
    DepartureConfirmed,
    DepartureEvidence,
    MemberState,
    NonReturnRecorded,
    NonReturnSource,
    ReturnDecisionIssued,
    ReturnDecisionStatusChanged,
    VoluntaryDepartureExtended,
)

__all__ = [
    "MAX_ALERTS",
    "AlertStatus",
    "SisAlertState",
    "SisStep",
    "SisSubjectState",
    "SkipReason",
    "alert_reference",
    "entry_ban_alert_reference",
    "prune_closed",
    "sis_step",
]

MAX_ALERTS = 32
"""Bound on one subject's alerts: real subjects have one or two decisions; tombstones go first, then the oldest."""

_REFERENCE_NAMESPACE = uuid.UUID("5e1b7f0a-3c4d-5e6f-8a9b-0c1d2e3f4a5b")

AlertStatus = Literal["WITHHELD", "ACTIVE", "CLOSED"]
"""WITHHELD: no alert entered (Art. 3 exemption); ACTIVE: the alert is in SIS; CLOSED: deleted, or never entered and
no longer due. A decision never seen has no state at all."""


class SkipReason(StrEnum):
    """Why an event sent nothing to SIS."""

    NOT_FOR_SIS = "not_for_sis"
    """The event type has no effect on SIS alerts."""
    UNKNOWN_DECISION = "unknown_decision"
    """The event refers to a decision this subject has no alert state for."""
    AMBIGUOUS = "ambiguous"
    """A departure names no decision and the subject has several open alerts."""
    ALERT_CLOSED = "alert_closed"
    """The alert was deleted (or closed while withheld) before this event."""
    NO_CHANGE = "no_change"
    """Nothing the alert carries changed (a duplicate, the same last day, a flag already set)."""
    EXEMPT = "exempt"
    """The alert is withheld under an Art. 3 exemption; the state was updated, nothing is sent."""
    FROM_SIS = "from_sis"
    """The fact came from SIS (Art. 7 notification); sending it back would echo it."""
    UNKNOWN_VALUE = "unknown_value"
    """A status or source this gateway cannot read (``UNKNOWN``)."""
    NO_MEMBER_STATE = "no_member_state"
    """The event's Member State is UNKNOWN: no alert can be issued for it."""
    NO_DECISION_REFERENCE = "no_decision_reference"
    """The decision reference is blank: point (l) and the alert's key are missing."""
    NO_PERIOD = "no_period"
    """A non-return for an alert with no period for voluntary departure (point (x))."""
    SUPERSEDED = "superseded"
    """A non-return for a last day that an extension has since moved."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SisAlertState(_Frozen):
    """What the gateway keeps about one decision's return alert.

    Attributes:
        decision_reference: Point (l).
        case_reference: National case reference (never sent to SIS; for the service's logs and ordering).
        member_state: Issuing Member State.
        alert_reference: The alert's stable reference (see :func:`alert_reference`).
        status: WITHHELD, ACTIVE or CLOSED.
        exemption: The Art. 3 exemption the decision carries, if any.
        legal_ground: Ground of the decision (point (j) is its configured code); None if not whitelisted.
        last_day: Point (x): last day of the period for voluntary departure, extensions included.
        suspended: Point (y): the decision is suspended.
        enforcement_postponed: Point (y): its enforcement is postponed.
        public_security_threat: Point (o); False if not whitelisted.
        warning_markers: Point (i); empty if not whitelisted.
        entry_ban_imposed: An entry ban accompanies the decision (point (z)).
        entry_ban_duration_days: The ban's duration, for the refusal-of-entry alert.
        identity: Identity and document block, only what a whitelist lets through; None once closed.
        non_return_sent_for: The last day for which a non-return was sent.
        closed_ground: Why the alert was closed.
        updated_at: When the gateway recorded the last event that changed this state.
        closed_at: When it was closed.
    """

    decision_reference: str
    case_reference: str
    member_state: str
    alert_reference: str
    status: AlertStatus
    exemption: ExemptionCode | None = None
    legal_ground: LegalGroundCode | None = None
    last_day: dt.date | None = None
    suspended: bool = False
    enforcement_postponed: bool = False
    public_security_threat: bool = False
    warning_markers: tuple[MarkerCode, ...] = ()
    entry_ban_imposed: bool = False
    entry_ban_duration_days: int | None = None
    identity: IdentityData | None = None
    non_return_sent_for: dt.date | None = None
    closed_ground: DeletionGround | None = None
    updated_at: dt.datetime
    closed_at: dt.datetime | None = None


class SisSubjectState(_Frozen):
    """All return alerts of one subject, oldest first.

    Attributes:
        alerts: One entry per decision (Member State, decision reference).
    """

    alerts: tuple[SisAlertState, ...] = ()


@dataclass(frozen=True, slots=True)
class SisStep:
    """What one event did.

    Attributes:
        state: The subject's new state; None when it has no alerts (the service may drop the key).
        messages: The messages to send, in order.
        skipped: Why nothing was sent, when nothing was (empty when messages were produced).
    """

    state: SisSubjectState | None
    messages: tuple[SisMessage, ...] = ()
    skipped: tuple[SkipReason, ...] = ()


def alert_reference(member_state: str, decision_reference: str) -> str:
    """The return alert's reference: the same Member State and decision reference always give the same one.

    A name-based UUID of the two, so it carries no personal data and reveals nothing beyond point (l).
    """
    return f"{member_state}-RET-{uuid.uuid5(_REFERENCE_NAMESPACE, f'{member_state}:{decision_reference}').hex}"


def entry_ban_alert_reference(member_state: str, decision_reference: str) -> str:
    """The refusal-of-entry alert's reference, derived like :func:`alert_reference` but distinct from it."""
    name = f"{member_state}:{decision_reference}:entry-ban"
    return f"{member_state}-EB-{uuid.uuid5(_REFERENCE_NAMESPACE, name).hex}"


def sis_step(state: SisSubjectState | None, event: CaseEvent, config: SisConfig) -> SisStep:
    """Apply one canonical event to a subject's SIS alerts.

    Args:
        state: The subject's alerts, or None for a subject never seen.
        event: The next canonical event of the subject (events of one subject arrive in order).
        config: The SIS configuration.

    Returns:
        The new state, the messages to send in order, and why nothing was sent when nothing was.
    """
    p = event.payload
    if isinstance(p, ReturnDecisionIssued):
        return _on_decision(state, event, p, config)
    if isinstance(p, VoluntaryDepartureExtended):
        return _on_extension(state, event, p, config)
    if isinstance(p, ReturnDecisionStatusChanged):
        return _on_status(state, event, p, config)
    if isinstance(p, DepartureConfirmed):
        return _on_departure(state, event, p, config)
    if isinstance(p, NonReturnRecorded):
        return _on_non_return(state, event, p, config)
    return _skip(state, SkipReason.NOT_FOR_SIS)


def prune_closed(state: SisSubjectState | None, now: dt.datetime, config: SisConfig) -> SisSubjectState | None:
    """Drop tombstones closed more than ``config.tombstone_days`` before ``now``; None if no alert is left."""
    if state is None:
        return None
    horizon = now - dt.timedelta(days=config.tombstone_days)
    kept = tuple(a for a in state.alerts if a.closed_at is None or a.closed_at > horizon)
    return SisSubjectState(alerts=kept) if kept else None


# --- events -----------------------------------------------------------------------------------------------------


def _on_decision(
    state: SisSubjectState | None, event: CaseEvent, p: ReturnDecisionIssued, config: SisConfig
) -> SisStep:
    if event.member_state is MemberState.UNKNOWN:
        return _skip(state, SkipReason.NO_MEMBER_STATE)
    if not p.decision_reference.strip():
        return _skip(state, SkipReason.NO_DECISION_REFERENCE)
    current = _find(state, event.member_state.value, p.decision_reference)
    if current is not None and current.status == "CLOSED":
        return _skip(state, SkipReason.ALERT_CLOSED)
    exempt = p.alert_exemption is not None and p.alert_exemption.value in config.honoured_exemptions
    fresh = _from_decision(event, p, config, current)
    basis = config.legal_basis
    if current is None or current.status == "WITHHELD":
        if exempt:
            return _done(state, fresh.model_copy(update={"status": "WITHHELD"}), (), SkipReason.EXEMPT)
        active = fresh.model_copy(update={"status": "ACTIVE"})
        return _done(state, active, (_create(active, event, config, basis.create),))
    # An alert already entered stays: Art. 3 exempts entering one, and Art. 14 lists no exemption among its grounds.
    return _changed(state, current, fresh, event, config, basis.update_correction)


def _on_extension(
    state: SisSubjectState | None, event: CaseEvent, p: VoluntaryDepartureExtended, config: SisConfig
) -> SisStep:
    alert = _find(state, event.member_state.value, p.decision_reference)
    if alert is None:
        return _skip(state, SkipReason.UNKNOWN_DECISION)
    if alert.status == "CLOSED":
        return _skip(state, SkipReason.ALERT_CLOSED)
    new = alert.model_copy(update={"last_day": p.new_last_day})
    return _changed(state, alert, new, event, config, config.legal_basis.update_period)


_FLAGS: dict[DecisionStatus, dict[str, bool]] = {
    DecisionStatus.SUSPENDED: {"suspended": True},
    DecisionStatus.ENFORCEMENT_POSTPONED: {"enforcement_postponed": True},
    DecisionStatus.RESUMED: {"suspended": False, "enforcement_postponed": False},
}
_DELETIONS: dict[DecisionStatus, DeletionGround] = {
    DecisionStatus.WITHDRAWN: "WITHDRAWN",
    DecisionStatus.ANNULLED: "ANNULLED",
    DecisionStatus.RESIDENCE_RIGHT_GRANTED: "RESIDENCE_RIGHT_GRANTED",
}


def _on_status(
    state: SisSubjectState | None, event: CaseEvent, p: ReturnDecisionStatusChanged, config: SisConfig
) -> SisStep:
    if p.status is DecisionStatus.UNKNOWN:
        return _skip(state, SkipReason.UNKNOWN_VALUE)
    alert = _find(state, event.member_state.value, p.decision_reference)
    if alert is None:
        return _skip(state, SkipReason.UNKNOWN_DECISION)
    if alert.status == "CLOSED":
        return _skip(state, SkipReason.ALERT_CLOSED)
    basis = config.legal_basis
    if p.status in _FLAGS:
        new = alert.model_copy(update=_FLAGS[p.status])
        return _changed(state, alert, new, event, config, basis.update_suspension)
    if p.status in _DELETIONS:
        ground = _DELETIONS[p.status]
        closed = _closed(alert, event, ground)
        if alert.status == "WITHHELD":
            return _done(state, closed, (), SkipReason.EXEMPT)
        text = basis.delete_residence_right if ground == "RESIDENCE_RIGHT_GRANTED" else basis.delete_withdrawn
        return _done(state, closed, (_delete(alert, event, ground, text),))
    # DETENTION_ENDED: released without removal, so a withheld alert is due at once; an entered one is unaffected.
    if alert.status == "ACTIVE":
        return _skip(state, SkipReason.NO_CHANGE)
    active = alert.model_copy(update={"status": "ACTIVE", "updated_at": event.recorded_at})
    return _done(state, active, (_create(active, event, config, basis.create_after_release),))


def _on_departure(state: SisSubjectState | None, event: CaseEvent, p: DepartureConfirmed, config: SisConfig) -> SisStep:
    member_state = event.member_state.value
    if p.decision_reference is not None:
        alert = _find(state, member_state, p.decision_reference)
        if alert is None:
            return _skip(state, SkipReason.UNKNOWN_DECISION)
    else:
        mine = [a for a in (state.alerts if state else ()) if a.member_state == member_state]
        open_ = [a for a in mine if a.status != "CLOSED"]
        if len(open_) > 1:
            return _skip(state, SkipReason.AMBIGUOUS)
        if not open_:
            return _skip(state, SkipReason.ALERT_CLOSED if mine else SkipReason.UNKNOWN_DECISION)
        alert = open_[0]
    if alert.status == "CLOSED":
        return _skip(state, SkipReason.ALERT_CLOSED)
    basis = config.legal_basis
    messages: list[SisMessage] = []
    if alert.status == "ACTIVE":
        if DepartureEvidence.SIS_ART6_CONFIRMATION not in p.evidence:
            messages.append(ConfirmationOfReturn(**_envelope(alert, event, basis.confirmation)))
        messages.append(_delete(alert, event, "RETURNED", basis.delete_returned))
    ban_due = alert.status == "ACTIVE" or config.entry_ban_alert_after_withheld
    if alert.entry_ban_imposed and config.pair_entry_ban_alert and ban_due:
        messages.append(_entry_ban(alert, event, config, p.departed_at.date()))
    closed = _closed(alert, event, "RETURNED")
    return _done(state, closed, tuple(messages), None if messages else SkipReason.EXEMPT)


def _on_non_return(state: SisSubjectState | None, event: CaseEvent, p: NonReturnRecorded, config: SisConfig) -> SisStep:
    if p.source is NonReturnSource.SIS_ART7_NOTIFICATION:
        return _skip(state, SkipReason.FROM_SIS)
    if p.source is NonReturnSource.UNKNOWN:
        # It may have come from SIS: better not to send it than to echo it.
        return _skip(state, SkipReason.UNKNOWN_VALUE)
    alert = _find(state, event.member_state.value, p.decision_reference)
    if alert is None:
        return _skip(state, SkipReason.UNKNOWN_DECISION)
    if alert.status == "CLOSED":
        return _skip(state, SkipReason.ALERT_CLOSED)
    if alert.status == "WITHHELD":
        return _skip(state, SkipReason.EXEMPT)
    if alert.last_day is None:
        return _skip(state, SkipReason.NO_PERIOD)
    if p.period_last_day < alert.last_day:
        return _skip(state, SkipReason.SUPERSEDED)
    if alert.non_return_sent_for == alert.last_day:
        return _skip(state, SkipReason.NO_CHANGE)
    allowed = config.return_whitelist.allows("voluntary_departure.last_day")
    message = NonReturn(
        **_envelope(alert, event, config.legal_basis.non_return), last_day=alert.last_day if allowed else None
    )
    sent = alert.model_copy(update={"non_return_sent_for": alert.last_day, "updated_at": event.recorded_at})
    return _done(state, sent, (message,))


# --- state ------------------------------------------------------------------------------------------------------


def _find(state: SisSubjectState | None, member_state: str, decision_reference: str) -> SisAlertState | None:
    if state is None:
        return None
    for a in state.alerts:
        if a.decision_reference == decision_reference and a.member_state == member_state:
            return a
    return None


def _from_decision(
    event: CaseEvent, p: ReturnDecisionIssued, config: SisConfig, previous: SisAlertState | None
) -> SisAlertState:
    values = read_decision(p)
    kept = config.return_whitelist.keep(values)
    member_state = event.member_state.value
    return SisAlertState(
        decision_reference=p.decision_reference,
        case_reference=event.case_reference,
        member_state=member_state,
        alert_reference=alert_reference(member_state, p.decision_reference),
        status=previous.status if previous is not None else "ACTIVE",
        exemption=None if p.alert_exemption is None else p.alert_exemption.value,
        legal_ground=kept.get("legal_ground"),
        last_day=values["voluntary_departure.last_day"],
        suspended=values["suspended"],
        enforcement_postponed=values["enforcement_postponed"],
        public_security_threat=kept.get("public_security_threat", False),
        warning_markers=kept.get("warning_markers", ()),
        entry_ban_imposed=values["entry_ban.imposed"],
        entry_ban_duration_days=values["entry_ban.duration_days"],
        # Only what one of the two alerts may carry is kept: the state is no larger a store of personal data.
        identity=identity_data(values, config.snapshot_whitelist),
        non_return_sent_for=previous.non_return_sent_for if previous is not None else None,
        updated_at=event.recorded_at,
    )


def _values(alert: SisAlertState) -> dict[str, Any]:
    """The alert's data as canonical path -> value, for a whitelist to filter."""
    return {
        **(identity_paths(alert.identity) if alert.identity is not None else {}),
        "warning_markers": alert.warning_markers,
        "legal_ground": alert.legal_ground,
        "decision_reference": alert.decision_reference,
        "public_security_threat": alert.public_security_threat,
        "voluntary_departure.last_day": alert.last_day,
        "suspended": alert.suspended,
        "enforcement_postponed": alert.enforcement_postponed,
        "entry_ban.imposed": alert.entry_ban_imposed,
        "entry_ban.duration_days": alert.entry_ban_duration_days,
    }


def _closed(alert: SisAlertState, event: CaseEvent, ground: DeletionGround) -> SisAlertState:
    # A tombstone: enough to recognise the decision again, nothing about the person.
    return SisAlertState(
        decision_reference=alert.decision_reference,
        case_reference=alert.case_reference,
        member_state=alert.member_state,
        alert_reference=alert.alert_reference,
        status="CLOSED",
        closed_ground=ground,
        updated_at=event.recorded_at,
        closed_at=event.recorded_at,
    )


def _changed(
    state: SisSubjectState | None,
    old: SisAlertState,
    new: SisAlertState,
    event: CaseEvent,
    config: SisConfig,
    basis: str,
) -> SisStep:
    """Keep ``new``; update the alert if what it carries changed, else say why nothing was sent."""
    if new == old:
        return _skip(state, SkipReason.NO_CHANGE)
    new = new.model_copy(update={"updated_at": event.recorded_at})
    if new.status == "WITHHELD":
        return _done(state, new, (), SkipReason.EXEMPT)
    if alert_data(_values(new), config) == alert_data(_values(old), config):
        return _done(state, new, (), SkipReason.NO_CHANGE)
    return _done(state, new, (_update(new, event, config, basis),))


def _done(
    state: SisSubjectState | None,
    alert: SisAlertState,
    messages: tuple[SisMessage, ...],
    skipped: SkipReason | None = None,
) -> SisStep:
    alerts = list(state.alerts if state else ())
    at = next((i for i, a in enumerate(alerts) if _same(a, alert)), None)
    if at is None:
        alerts.append(alert)
    else:
        alerts[at] = alert  # in place: the tuple stays in order of first sight
    while len(alerts) > MAX_ALERTS:
        closed = [i for i, a in enumerate(alerts) if a.status == "CLOSED" and a is not alert]
        alerts.pop(closed[0] if closed else 0)
    return SisStep(SisSubjectState(alerts=tuple(alerts)), messages, () if skipped is None else (skipped,))


def _same(a: SisAlertState, b: SisAlertState) -> bool:
    return a.decision_reference == b.decision_reference and a.member_state == b.member_state


def _skip(state: SisSubjectState | None, reason: SkipReason) -> SisStep:
    return SisStep(state, (), (reason,))


# --- messages ---------------------------------------------------------------------------------------------------


def _envelope(alert: SisAlertState, event: CaseEvent, basis: str) -> dict[str, Any]:
    return {
        "issuing_member_state": alert.member_state,
        "alert_reference": alert.alert_reference,
        "decision_reference": alert.decision_reference,
        "created_at": event.recorded_at,
        "legal_basis": basis,
    }


def _create(alert: SisAlertState, event: CaseEvent, config: SisConfig, basis: str) -> AlertCreate:
    return AlertCreate(
        **_envelope(alert, event, basis),
        alert=alert_data(_values(alert), config),
        creating_authority=config.creating_authority,
        action_on_hit=config.action_on_hit,
    )


def _update(alert: SisAlertState, event: CaseEvent, config: SisConfig, basis: str) -> AlertUpdate:
    return AlertUpdate(
        **_envelope(alert, event, basis),
        alert=alert_data(_values(alert), config),
        creating_authority=config.creating_authority,
        action_on_hit=config.action_on_hit,
    )


def _delete(alert: SisAlertState, event: CaseEvent, ground: DeletionGround, basis: str) -> AlertDelete:
    return AlertDelete(**_envelope(alert, event, basis), ground=ground)


def _entry_ban(alert: SisAlertState, event: CaseEvent, config: SisConfig, departed: dt.date) -> EntryBanAlert:
    whitelist = config.entry_ban_whitelist
    kept = whitelist.keep(_values(alert))
    duration: int | None = kept.get("entry_ban.duration_days")
    expiry = None
    if duration is not None and duration > 0 and config.entry_ban_expiry_from_departure:
        try:
            expiry = departed + dt.timedelta(days=duration)
        except OverflowError:
            expiry = None  # beyond the calendar: the duration alone is sent
    envelope = _envelope(alert, event, config.legal_basis.entry_ban)
    envelope["alert_reference"] = entry_ban_alert_reference(alert.member_state, alert.decision_reference)
    return EntryBanAlert(
        **envelope,
        identity=identity_data(_values(alert), whitelist),
        creating_authority=config.creating_authority,
        action_on_hit=config.entry_ban_action_on_hit,
        duration_days=duration,
        expiry_date=expiry,
    )
