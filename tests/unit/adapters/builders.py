"""Canonical events for the adapter tests: one builder per payload, envelope filled with plain defaults."""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import types
import typing
import uuid
from typing import Any

from pydantic import BaseModel

from gateway.events import models as m
from gateway.testing.examples import identity

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
_ids = itertools.count()


def event(payload: m.AvroModel, *, ms: str = "NL", case: str = "NL-CASE-1", subject: str = "s" * 32) -> m.CaseEvent:
    return m.CaseEvent(
        event_id=uuid.UUID(int=next(_ids) + 1),
        event_type=m.EVENT_TYPE_OF[type(payload)],
        occurred_at=T0,
        recorded_at=T0,
        member_state=m.MemberState(ms),
        source=m.Source(connector="nl-xml", version="1.0"),
        case_reference=case,
        subject_key=subject,
        correlation_id="test",
        payload=payload,
    )


def biometrics(category: str = "IRREGULAR_CROSSING", article: str = "Art. 22(1)") -> m.BiometricsCaptured:
    return m.BiometricsCaptured(
        category=m.EurodacCategory(category),
        article=article,
        registered_at=T0,
        biometrics_taken_on=T0.date(),
        identity=identity(),
    )


def granted(
    programme: str = "NL-AVRR-2026", day: dt.date = dt.date(2026, 4, 1), granting: str = "NL"
) -> m.AssistanceGranted:
    return m.AssistanceGranted(
        programme_reference=programme,
        stage=m.ProcedureStage.AFTER_RETURN_DECISION,
        granting_member_state=m.MemberState(granting),
        grant_date=day,
    )


def refused(programme: str = "NL-AVRR-2026", day: dt.date = dt.date(2026, 5, 1)) -> m.AssistanceRefused:
    return m.AssistanceRefused(
        programme_reference=programme,
        stage=m.ProcedureStage.AFTER_RETURN_DECISION,
        refusal_date=day,
        reason=m.RefusalReason.WITHDRAWN_BY_APPLICANT,
    )


def decision(
    ref: str = "RD-1",
    *,
    day: dt.date = dt.date(2026, 3, 1),
    last_day: dt.date | None = dt.date(2026, 4, 1),
    **extra: Any,
) -> m.ReturnDecisionIssued:
    return m.ReturnDecisionIssued(
        decision_reference=ref,
        decision_date=day,
        issuing_authority="IND",
        legal_ground=m.LegalGround.ILLEGAL_STAY,
        voluntary_departure=m.VoluntaryDeparture(granted=last_day is not None, last_day=last_day),
        entry_ban=m.EntryBan(imposed=False),
        identity=identity(),
        **extra,
    )


def assert_simple_types(model: type[BaseModel]) -> None:
    """Fields are str, int, bool, dates, Literal strings, optionals, tuples and nested such models: no Enum."""
    simple = {str, int, bool, dt.date, dt.datetime, type(None)}
    for name, field in model.model_fields.items():
        stack = [field.annotation]
        while stack:
            t = stack.pop()
            origin = typing.get_origin(t)
            if origin is typing.Literal:
                assert all(isinstance(a, str) for a in typing.get_args(t)), (model, name)
                continue
            if origin in (tuple, typing.Union, types.UnionType):
                stack.extend(a for a in typing.get_args(t) if a is not Ellipsis)
                continue
            assert not (isinstance(t, type) and issubclass(t, enum.Enum)), (model, name)
            if isinstance(t, type) and issubclass(t, BaseModel):
                assert_simple_types(t)
            else:
                assert t in simple, (model, name, t)
