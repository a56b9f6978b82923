"""Helpers for the validation tests: example events with changed fields, and running one rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from gateway.events import models as m
from gateway.testing import examples
from gateway.validation.config import load_config
from gateway.validation.engine import ValidationEngine
from gateway.validation.findings import Finding
from gateway.validation.programmes import example_programmes_path, load_programmes
from gateway.validation.state import CaseState

NOW = dt.datetime(2026, 9, 2, 12, 0, tzinfo=dt.UTC)
PROGRAMMES = load_programmes(example_programmes_path())
T = m.EventType


def with_changes(model: BaseModel, changes: dict[str, Any]) -> Any:
    """A copy of ``model`` with dotted paths replaced (no validation, as the generated models are frozen)."""
    for path, value in changes.items():
        model = _set(model, path.split("."), value)
    return model


def _set(model: BaseModel, parts: list[str], value: Any) -> BaseModel:
    if len(parts) == 1:
        return model.model_copy(update={parts[0]: value})
    return model.model_copy(update={parts[0]: _set(getattr(model, parts[0]), parts[1:], value)})


def ev(event_type: m.EventType, changes: dict[str, Any] | None = None, **envelope: Any) -> m.CaseEvent:
    """The example event of a type with payload fields changed by dotted path and envelope fields replaced."""
    base = examples.event(event_type)
    payload = with_changes(base.payload, changes or {})
    return base.model_copy(update={"payload": payload, **envelope})


def engine(config: dict[str, Any] | None = None) -> ValidationEngine:
    """An engine over the example programme catalogue with an optional configuration dict."""
    return ValidationEngine(load_config(config or {}), PROGRAMMES)


DEFAULT_ENGINE = engine()


def run(
    rule_id: str,
    event: m.CaseEvent,
    state: CaseState | None = None,
    now: dt.datetime = NOW,
    eng: ValidationEngine | None = None,
) -> list[Finding]:
    """The findings of one rule for one event."""
    findings = (eng or DEFAULT_ENGINE).validate(event, state or CaseState(), now)
    return [f for f in findings if f.rule_id == rule_id]


def paths(rule_id: str, event: m.CaseEvent, **kwargs: Any) -> list[str]:
    """The field paths one rule reports for an event."""
    return [f.path for f in run(rule_id, event, **kwargs)]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
