"""Over generated event sequences: every document is XSD-valid and carries nothing from non-whitelisted fields."""

from __future__ import annotations

import enum
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.adapters.eurodac import EurodacConfig, EurodacSubjectState, Refused, Rendered, eurodac_step, render
from gateway.adapters.eurodac.render import schema
from gateway.events import models as m
from gateway.testing.strategies import case_events

SENTINEL = "SENTINEL"
PLAUSIBLE_CASES = ("NL-2026-0001", "DE/77/2026", "case 9")
PLAUSIBLE_ARTICLES = ("Art. 22(1)", "Art. 15(1)")
# The fields an update may carry (the whitelist); every other string of the event is replaced by a sentinel.
WHITELISTED = {"case_reference", "article"}
CONFIGS = (EurodacConfig(enabled=True), EurodacConfig(enabled=True, send_withdrawals=False))

texts = st.text(max_size=12)


def _sentinelled(value: Any, counter: list[int], key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _sentinelled(v, counter, k) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(_sentinelled(v, counter, key) for v in value)
    if isinstance(value, str) and not isinstance(value, enum.Enum) and key not in WHITELISTED:
        counter[0] += 1
        return f"{SENTINEL}{counter[0]}"
    return value


@st.composite
def sequences(draw: st.DrawFn) -> list[m.CaseEvent]:
    kinds = st.sampled_from(
        [m.EventType.BIOMETRICS_CAPTURED, m.EventType.ASSISTANCE_GRANTED, m.EventType.ASSISTANCE_REFUSED, None]
    )
    raw = [draw(case_events(draw(kinds))) for _ in range(draw(st.integers(0, 6)))]
    # A registration first and a grant last of the same Member State: each sequence owes at least one update.
    raw = [draw(case_events(m.EventType.BIOMETRICS_CAPTURED)), *raw, draw(case_events(m.EventType.ASSISTANCE_GRANTED))]
    member_states = st.sampled_from([m.MemberState.NL, m.MemberState.DE])
    first_state = draw(member_states)
    out = []
    counter = [0]
    for i, e in enumerate(raw):
        data = _sentinelled(e.model_dump(), counter)
        data["member_state"] = first_state if i in (0, len(raw) - 1) else draw(member_states)
        data["case_reference"] = draw(st.sampled_from(PLAUSIBLE_CASES) | texts)
        payload = data["payload"]
        if "programme_reference" in payload:
            payload["programme_reference"] = draw(st.sampled_from([f"{SENTINEL}-P1", f"{SENTINEL}-P2"]))
        if "granting_member_state" in payload:
            payload["granting_member_state"] = draw(member_states)
        if "article" in payload:
            payload["article"] = draw(st.sampled_from(PLAUSIBLE_ARTICLES) | texts)
        out.append(m.CaseEvent.model_validate(data))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(events=sequences(), config=st.sampled_from(CONFIGS))
def test_documents_validate_and_carry_no_sentinel(events: list[m.CaseEvent], config: EurodacConfig):
    state: EurodacSubjectState | None = None
    updates = []
    for e in events:
        step = eurodac_step(state, e, config)
        state = step.state
        updates.extend(step.updates)
    assert updates, "a registration and a later grant of one Member State always owe an update"
    for update in updates:
        doc = render(update, config)
        if isinstance(doc, Refused):
            odd = (
                update.dataset.reference_number not in PLAUSIBLE_CASES
                or update.dataset.article not in PLAUSIBLE_ARTICLES
                or update.dataset.category == "UNKNOWN"
            )
            assert odd, doc.reason
            continue
        assert isinstance(doc, Rendered)
        assert schema().validate(etree.fromstring(doc.xml))
        assert SENTINEL.encode() not in doc.xml
    # A state the step returns is a valid state of the model (the lead persists it).
    assert state is not None
    assert EurodacSubjectState.model_validate(state.model_dump()) == state
