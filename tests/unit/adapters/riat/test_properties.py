"""Properties over generated event sequences: consent false never leaves; whitelists hold; every body is valid."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.adapters.riat import CaseCreation, Rendered, RiatConfig, render, riat_step
from gateway.events import models as m
from tests.unit.adapters.builders import decision
from tests.unit.adapters.riat.support import REFERRAL_SCHEMA, T0, event, validator

SURNAME, DOC, CASE = "QQSURNAMEQQ", "QQDOC99QQ", "QQCASEQQ"
CHECK = validator(REFERRAL_SCHEMA)


def _identity() -> m.Identity:
    return m.Identity(
        surnames=(SURNAME,),
        date_of_birth=m.PartialDate(year=1979, month=1, day=2, precision=m.DatePrecision.DAY),
        sex=m.Sex.MALE,
        travel_document=m.TravelDocument(type=m.TravelDocumentType.PASSPORT, number=DOC, issuing_country="MAR"),
    )


referrals = st.builds(
    lambda rid, consent, family, support, stage, day: m.ReintegrationReferral(
        referral_id=rid,
        partner="IOM",
        country_of_return="MAR",
        consent_obtained=consent,
        vulnerability=family % 2 == 0,
        family_size=family,
        support_types=tuple(support),
        stage=stage,
        expected_departure_date=day,
        identity=_identity(),
    ),
    st.sampled_from(["A", "B"]),
    st.booleans(),
    st.integers(1, 4),
    st.lists(st.sampled_from([s for s in m.SupportType if s is not m.SupportType.UNKNOWN]), max_size=3, unique=True),
    st.sampled_from([m.ReintegrationStage.CASE_REGISTRATION] * 6 + [m.ReintegrationStage.CANCELLED]),
    st.none() | st.dates(dt.date(2026, 3, 1), dt.date(2026, 6, 1)),
)
facts = st.one_of(
    st.builds(
        lambda g: decision().model_copy(update={"legal_ground": g, "identity": _identity()}),
        st.sampled_from(list(m.LegalGround)),
    ),
    st.builds(
        lambda cents: m.AssistanceGranted(
            programme_reference="P",
            stage=m.ProcedureStage.AFTER_RETURN_DECISION,
            components=(
                m.AssistanceComponent(
                    type=m.AssistanceType.REINTEGRATION_CASH,
                    form=m.AssistanceForm.CASH,
                    amount_eur=Decimal(cents) / 100,
                ),
            ),
            granting_member_state=m.MemberState.NL,
            grant_date=dt.date(2026, 3, 3),
        ),
        st.integers(0, 10**9),
    ),
    st.builds(
        lambda days, rt, dublin: m.DepartureConfirmed(
            departed_at=T0 + dt.timedelta(days=days), return_type=rt, assisted=True, dublin_transfer=dublin
        ),
        st.integers(0, 60),
        st.sampled_from(list(m.ReturnType)),
        st.booleans(),
    ),
    st.builds(
        lambda rid, stage: m.ReintegrationStatusChanged(referral_id=rid, stage=stage),
        st.sampled_from(["A", "B"]),
        st.sampled_from(list(m.ReintegrationStage)),
    ),
)
sequences = st.lists(st.tuples(st.sampled_from(["NL", "NL", "BE"]), st.one_of(referrals, facts)), max_size=14)


@settings(max_examples=300, deadline=None)
@given(sequences)
def test_no_message_for_a_referral_whose_consent_is_false_at_the_time(seq: list[tuple[str, Any]]):
    config = RiatConfig()
    state = None
    consent: dict[tuple[str, str], bool] = {}
    created: set[tuple[str, str]] = set()
    for ms, payload in seq:
        if isinstance(payload, m.ReintegrationReferral):
            consent[(ms, payload.referral_id)] = payload.consent_obtained
        step = riat_step(state, event(payload, ms=ms, case=CASE), config)
        state = step.state
        assert bool(step.messages) != bool(step.skipped)
        for i, message in enumerate(step.messages):
            key = (message.member_state, message.referral_id)
            assert consent.get(key) is True, (key, consent)
            if isinstance(message, CaseCreation):
                assert key not in created  # once per referral
                created.add(key)
                assert step.messages[i + 1].kind == "KM1_APPLICATION"
            else:
                assert key in created
            rendered = render(message, config)
            assert isinstance(rendered, Rendered), rendered
            CHECK.validate(json.loads(rendered.body))
            for sentinel in (SURNAME, DOC, CASE, "1979-01-02"):
                assert sentinel.encode() not in rendered.body


@settings(max_examples=100, deadline=None)
@given(sequences)
def test_the_state_never_keeps_identity_no_whitelist_allows(seq: list[tuple[str, Any]]):
    state = None
    for ms, payload in seq:
        state = riat_step(state, event(payload, ms=ms), RiatConfig()).state
    dumped = state.model_dump_json() if state is not None else ""
    assert SURNAME not in dumped
    assert DOC not in dumped
    assert "1979" not in dumped
