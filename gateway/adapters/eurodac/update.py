"""Which AVRR updates of its own Eurodac datasets a Member State owes, one subject's events at a time (pure).

A Member State records in its Eurodac dataset that return and reintegration assistance was granted (Reg. (EU)
2024/1358 Art. 16-17, point to be confirmed). The rules the step applies:

* A dataset exists once a ``BiometricsCaptured`` of the subject was seen; it belongs to that event's Member State
  and is addressed by the event's case reference (Art. 17(1)(k)), category and article.
* An ``AssistanceGranted`` is owed to every dataset of the same Member State (the granting system's). A grant seen
  before the subject was registered is sent when the ``BiometricsCaptured`` arrives.
* A withdrawal is an ``AssistanceRefused`` for a programme whose grant was seen. It is sent only to datasets that
  were sent the grant (there is nothing to withdraw elsewhere), and only if ``send_withdrawals``.
* Idempotent: what was sent is remembered per dataset and programme; the same grant twice, or a replayed older
  grant, sends nothing new. Each update carries a stable id, so a receiver can drop a re-sent one too.

The state is small and flat (strings, dates, tuples of small models) so that it can be persisted as Avro.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.adapters.eurodac.config import EurodacConfig
from gateway.events.models import AssistanceGranted, AssistanceRefused, BiometricsCaptured, CaseEvent

# Bounds on one subject's state. Real subjects have one or two datasets and a few programmes; the bounds only keep a
# pathological input from growing the state without limit (the oldest entries go first).
MAX_DATASETS = 16
MAX_GRANTS = 32

_UPDATE_NAMESPACE = uuid.UUID("0b7c6a1e-5d0e-5a43-9a55-7e1c0e1d2a01")

UpdateKind = Literal["AVRR_GRANTED", "AVRR_WITHDRAWN"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EurodacDataset(_Frozen):
    """A dataset the Member State recorded for the subject.

    Attributes:
        member_state: Member State of origin (the ``BiometricsCaptured``'s ``member_state``).
        reference_number: Its reference number (Art. 17(1)(k)): the national case reference.
        category: Eurodac category (``EurodacCategory`` symbol).
        article: Article of collection, e.g. ``Art. 22(1)``.
    """

    member_state: str
    reference_number: str
    category: str
    article: str


class AvrrGrant(_Frozen):
    """A grant of assistance seen for the subject.

    Attributes:
        member_state: Member State whose system recorded the grant.
        programme_reference: The programme (RRAI reference); identifies the grant within the subject.
        granting_member_state: Member State that granted it.
        grant_date: Date of the grant.
        withdrawn_on: Date of the withdrawal (an ``AssistanceRefused`` after the grant), if withdrawn.
    """

    member_state: str
    programme_reference: str
    granting_member_state: str
    grant_date: dt.date
    withdrawn_on: dt.date | None = None


class SentUpdate(_Frozen):
    """The last update sent for one dataset and programme.

    Attributes:
        dataset: The dataset.
        programme_reference: The programme.
        granted: True for a grant, False for a withdrawal.
        granting_member_state: As sent.
        grant_date: As sent.
    """

    dataset: EurodacDataset
    programme_reference: str
    granted: bool
    granting_member_state: str
    grant_date: dt.date


class EurodacSubjectState(_Frozen):
    """What the Eurodac step remembers of one subject.

    Attributes:
        datasets: The subject's datasets, oldest first.
        grants: Grants seen, oldest first (withdrawn ones included).
        sent: The last update sent per dataset and programme.
    """

    datasets: tuple[EurodacDataset, ...] = ()
    grants: tuple[AvrrGrant, ...] = ()
    sent: tuple[SentUpdate, ...] = ()


class EurodacUpdate(_Frozen):
    """One update of one dataset's AVRR element; only what the XSD models, no identity data.

    Attributes:
        update_id: Stable id (UUID text): the same update computed twice has the same id.
        kind: A grant or a withdrawal.
        dataset: The dataset updated.
        granted: The element's ``granted`` value.
        granting_member_state: Member State that granted the assistance.
        grant_date: Date of the grant.
        withdrawn_on: Date of the withdrawal (withdrawals only).
        case_reference: The case whose event caused the update (ordering key for the outbox).
    """

    update_id: str
    kind: UpdateKind
    dataset: EurodacDataset
    granted: bool
    granting_member_state: str
    grant_date: dt.date
    withdrawn_on: dt.date | None = None
    case_reference: str


@dataclass(frozen=True, slots=True)
class EurodacStep:
    """The result of one event.

    Attributes:
        state: The subject's new state; None when there was none and the event does not concern Eurodac AVRR.
        updates: Updates to send now, in order.
        skipped: Why something the event might have caused is not sent (for logs and metrics).
    """

    state: EurodacSubjectState | None
    updates: tuple[EurodacUpdate, ...] = ()
    skipped: tuple[str, ...] = ()


def eurodac_step(state: EurodacSubjectState | None, event: CaseEvent, config: EurodacConfig) -> EurodacStep:
    """Fold one canonical event of a subject into its state and return the updates now due.

    Args:
        state: The subject's state before the event, or None for a subject not seen yet.
        event: The subject's next canonical event (events of other types leave the state alone).
        config: The Eurodac configuration.

    Returns:
        The new state, the updates to send and the reasons for what is not sent.
    """
    payload = event.payload
    current = state or EurodacSubjectState()
    reasons: tuple[str, ...]
    member_state = str(event.member_state)
    if isinstance(payload, BiometricsCaptured):
        folded, reasons = _registered(current, event, payload), ()
    elif isinstance(payload, AssistanceGranted):
        folded, reasons = _granted(current, member_state, payload)
    elif isinstance(payload, AssistanceRefused):
        folded, reasons = _refused(current, member_state, payload, config)
    else:
        return EurodacStep(state)
    due, sent = _due(folded, config, event.case_reference)
    if due and not config.enabled:
        return EurodacStep(folded, (), (*reasons, "Eurodac AVRR updates are disabled (enabled = false)"))
    return EurodacStep(folded.model_copy(update={"sent": sent}), due, reasons)


def _registered(state: EurodacSubjectState, event: CaseEvent, payload: BiometricsCaptured) -> EurodacSubjectState:
    dataset = EurodacDataset(
        member_state=str(event.member_state),
        reference_number=event.case_reference,
        category=str(payload.category),
        article=payload.article,
    )
    if dataset in state.datasets:
        return state
    return state.model_copy(update={"datasets": (*state.datasets, dataset)[-MAX_DATASETS:]})


def _granted(
    state: EurodacSubjectState, member_state: str, payload: AssistanceGranted
) -> tuple[EurodacSubjectState, tuple[str, ...]]:
    grant = AvrrGrant(
        member_state=member_state,
        programme_reference=payload.programme_reference,
        granting_member_state=str(payload.granting_member_state),
        grant_date=payload.grant_date,
    )
    reasons: tuple[str, ...] = ()
    old = _grant_of(state, member_state, payload.programme_reference)
    same = old is not None and (old.granting_member_state, old.grant_date) == (
        grant.granting_member_state,
        grant.grant_date,
    )
    if same:
        # The same grant again: a duplicate, or an old grant replayed after its withdrawal. Neither changes anything.
        return state, ("the same grant was seen before: nothing new to send",)
    if not any(d.member_state == member_state for d in state.datasets):
        reasons = (f"no Eurodac dataset of {member_state} for this subject yet: sent once biometrics are captured",)
    others = tuple(g for g in state.grants if g is not old)
    return state.model_copy(update={"grants": (*others, grant)[-MAX_GRANTS:]}), reasons


def _refused(
    state: EurodacSubjectState, member_state: str, payload: AssistanceRefused, config: EurodacConfig
) -> tuple[EurodacSubjectState, tuple[str, ...]]:
    old = _grant_of(state, member_state, payload.programme_reference)
    if old is None:
        return state, ("a refusal of assistance never granted is not a withdrawal: nothing to send",)
    if old.withdrawn_on is not None:
        return state, ("the withdrawal was seen before: nothing new to send",)
    withdrawn = old.model_copy(update={"withdrawn_on": payload.refusal_date})
    grants = tuple(withdrawn if g is old else g for g in state.grants)
    reasons = () if config.send_withdrawals else ("withdrawals are not sent (send_withdrawals = false)",)
    return state.model_copy(update={"grants": grants}), reasons


def _grant_of(state: EurodacSubjectState, member_state: str, programme: str) -> AvrrGrant | None:
    return next(
        (g for g in state.grants if g.member_state == member_state and g.programme_reference == programme), None
    )


def _due(
    state: EurodacSubjectState, config: EurodacConfig, case_reference: str
) -> tuple[tuple[EurodacUpdate, ...], tuple[SentUpdate, ...]]:
    """Updates owed now (what each dataset should record against what it was sent) and the new sent list.

    The sent list keeps only pairs of a dataset and a grant still in the state, so it is bounded with them.
    """
    sent = {(s.dataset, s.programme_reference): s for s in state.sent}
    kept: list[SentUpdate] = []
    due: list[EurodacUpdate] = []
    for dataset in state.datasets:
        for grant in state.grants:
            if grant.member_state != dataset.member_state:
                continue  # only the Member State's own datasets; another's is that state's business (Art. 40)
            last = sent.get((dataset, grant.programme_reference))
            wanted = _wanted(dataset, grant, last, config)
            if wanted is not None and wanted != last:
                due.append(_update(wanted, grant, case_reference))
                last = wanted
            if last is not None:
                kept.append(last)
    return tuple(due), tuple(kept)


def _wanted(
    dataset: EurodacDataset, grant: AvrrGrant, last: SentUpdate | None, config: EurodacConfig
) -> SentUpdate | None:
    """What the dataset should have been sent for this grant, or None when nothing is owed."""
    if grant.withdrawn_on is None:
        granted = True
    elif last is not None and last.granted and config.send_withdrawals:
        granted = False
    else:
        return None  # never sent, so nothing to withdraw; or withdrawals are not sent
    return SentUpdate(
        dataset=dataset,
        programme_reference=grant.programme_reference,
        granted=granted,
        granting_member_state=grant.granting_member_state,
        grant_date=grant.grant_date,
    )


def _update(wanted: SentUpdate, grant: AvrrGrant, case_reference: str) -> EurodacUpdate:
    dataset = wanted.dataset
    kind: UpdateKind = "AVRR_GRANTED" if wanted.granted else "AVRR_WITHDRAWN"
    withdrawn_on = None if wanted.granted else grant.withdrawn_on
    name = "|".join(
        (
            dataset.member_state,
            dataset.reference_number,
            dataset.category,
            dataset.article,
            grant.programme_reference,
            kind,
            grant.granting_member_state,
            grant.grant_date.isoformat(),
            withdrawn_on.isoformat() if withdrawn_on else "",
        )
    )
    return EurodacUpdate(
        update_id=str(uuid.uuid5(_UPDATE_NAMESPACE, name)),
        kind=kind,
        dataset=dataset,
        granted=wanted.granted,
        granting_member_state=grant.granting_member_state,
        grant_date=grant.grant_date,
        withdrawn_on=withdrawn_on,
        case_reference=case_reference,
    )
