"""Helpers of the RIAT adapter tests: events, a run of a story through the adapter, an independent schema check."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from gateway.adapters.riat import Rendered, RiatConfig, RiatSubjectState, render, riat_step
from gateway.events import models as m

REPO = Path(__file__).resolve().parents[4]
REFERRAL_SCHEMA = REPO / "schemas" / "json" / "riat-referral-v1.schema.json"
STATUS_SCHEMA = REPO / "schemas" / "json" / "riat-status-v1.schema.json"
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
_ids = itertools.count(1)


def validator(path: Path) -> Draft202012Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def event(
    payload: m.AvroModel, *, ms: str = "NL", case: str = "NL-CASE-1", at: dt.datetime = T0, subject: str = "s" * 32
) -> m.CaseEvent:
    return m.CaseEvent(
        event_id=uuid.UUID(int=next(_ids)),
        event_type=m.EVENT_TYPE_OF[type(payload)],
        occurred_at=at,
        recorded_at=at,
        member_state=m.MemberState(ms),
        source=m.Source(connector="nl-xml", version="1.0"),
        case_reference=case,
        subject_key=subject,
        correlation_id="test",
        payload=payload,
    )


def referral(referral_id: str = "R-1", *, consent: bool = True, **extra: Any) -> m.ReintegrationReferral:
    values: dict[str, Any] = {
        "referral_id": referral_id,
        "partner": "IOM",
        "country_of_return": "MAR",
        "consent_obtained": consent,
        "vulnerability": False,
        "family_size": 2,
        "support_types": (m.SupportType.MEDICAL_CARE,),
        "stage": m.ReintegrationStage.CASE_REGISTRATION,
    }
    values.update(extra)
    return m.ReintegrationReferral(**values)


def status(referral_id: str, stage: str) -> m.ReintegrationStatusChanged:
    return m.ReintegrationStatusChanged(referral_id=referral_id, stage=m.ReintegrationStage(stage))


def departure(at: dt.datetime = T0 + dt.timedelta(days=10), **extra: Any) -> m.DepartureConfirmed:
    values: dict[str, Any] = {"departed_at": at, "return_type": m.ReturnType.VOLUNTARY, "assisted": True}
    values.update(extra)
    return m.DepartureConfirmed(**values)


def run(
    events: list[m.CaseEvent], config: RiatConfig | None = None
) -> tuple[RiatSubjectState | None, list[tuple[str, dict[str, Any]]]]:
    """Step every event, render every message (all must render); the final state and the (kind, document) pairs."""
    config = config or RiatConfig()
    state: RiatSubjectState | None = None
    out: list[tuple[str, dict[str, Any]]] = []
    for e in events:
        step = riat_step(state, e, config)
        state = step.state
        assert bool(step.messages) != bool(step.skipped), step
        for message in step.messages:
            rendered = render(message, config)
            assert isinstance(rendered, Rendered), rendered
            out.append((rendered.kind, json.loads(rendered.body)))
    return state, out
