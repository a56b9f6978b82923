"""The referral lifecycle, rule by rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.adapters.riat import RiatConfig, SkipReason, riat_step
from gateway.adapters.riat.lifecycle import RiatFacts, RiatReferralState, RiatSubjectState
from gateway.adapters.riat.messages import Assistance, RiatIdentity
from gateway.events import models as m
from tests.unit.adapters.builders import assert_simple_types, decision, granted
from tests.unit.adapters.riat.support import T0, departure, event, referral, run, status

CONFIG = RiatConfig()


def kinds(out: list[tuple[str, dict]]) -> list[str]:
    return [k for k, _ in out]


def test_state_holds_only_simple_types():
    for model in (RiatSubjectState, RiatReferralState, RiatFacts, Assistance, RiatIdentity):
        assert_simple_types(model)


def test_a_referral_with_consent_creates_the_case_then_km1():
    state, out = run([event(referral())])
    assert kinds(out) == ["CASE_CREATION", "KM1_APPLICATION"]
    assert state is not None
    (r,) = state.referrals
    assert (r.status, r.created_sent, r.case_reference) == ("OPEN", True, "NL-CASE-1")


def test_without_consent_nothing_leaves_and_the_referral_waits():
    step = riat_step(None, event(referral(consent=False)), CONFIG)
    assert step.messages == ()
    assert step.skipped == (SkipReason.NO_CONSENT,)
    assert step.state is not None
    assert step.state.referrals[0].status == "PENDING_CONSENT"
    # facts that follow send nothing either
    step = riat_step(step.state, event(decision()), CONFIG)
    assert step.messages == ()
    assert step.skipped == (SkipReason.NO_OPEN_REFERRAL,)


def test_consent_withdrawn_stops_updates_until_given_again():
    _, out = run(
        [
            event(referral()),
            event(referral(consent=False)),
            event(decision()),  # would change KM1: withheld
            event(departure()),
            event(referral()),  # consent again: one update with everything new, no second creation
        ]
    )
    assert kinds(out) == ["CASE_CREATION", "KM1_APPLICATION", "KM1_UPDATE"]
    km1 = out[-1][1]["km1"]
    assert km1["administrative_status"] == "IRREGULAR_STAY"
    assert km1["departure_date_status"] == "CONFIRMED"


def test_withdrawal_is_recorded_with_its_reason():
    state, _ = run([event(referral())])
    step = riat_step(state, event(referral(consent=False)), CONFIG)
    assert step.skipped == (SkipReason.CONSENT_WITHDRAWN,)
    assert step.state is not None
    assert step.state.referrals[0].status == "CONSENT_WITHDRAWN"


def test_a_duplicate_referral_sends_nothing():
    state, _ = run([event(referral())])
    step = riat_step(state, event(referral()), CONFIG)
    assert step.messages == ()
    assert step.skipped == (SkipReason.NO_CHANGE,)


def test_a_changed_referral_updates_km1_but_never_the_creation():
    _, out = run([event(referral()), event(referral(family_size=4, partner="Caritas", country_of_return="GEO"))])
    assert kinds(out) == ["CASE_CREATION", "KM1_APPLICATION", "KM1_UPDATE"]
    assert out[2][1]["km1"]["family_size"] == 4
    state, _ = run([event(referral()), event(referral(partner="Caritas"))])
    assert state is not None
    assert state.referrals[0].partner == "IOM"


def test_facts_known_before_the_referral_enter_km1():
    grant = granted().model_copy(
        update={
            "components": (
                m.AssistanceComponent(
                    type=m.AssistanceType.REINTEGRATION_CASH, form=m.AssistanceForm.CASH, amount_eur=Decimal("1200")
                ),
            )
        }
    )
    _, out = run([event(decision()), event(grant), event(referral())])
    km1 = out[1][1]["km1"]
    assert km1["administrative_status"] == "IRREGULAR_STAY"
    assert km1["assistance_granted"] == [{"type": "REINTEGRATION_CASH", "form": "CASH", "amount_eur": "1200.00"}]


def test_departure_confirmed_later_gives_one_update_and_a_second_evidence_nothing():
    left = departure(T0 + dt.timedelta(days=3))
    again = departure(T0 + dt.timedelta(days=3, hours=2), evidence=(m.DepartureEvidence.EES_EXIT_RECORD,))
    _, out = run([event(referral(expected_departure_date=dt.date(2026, 3, 1))), event(left), event(again)])
    assert kinds(out) == ["CASE_CREATION", "KM1_APPLICATION", "KM1_UPDATE"]
    assert out[1][1]["km1"]["departure_date_status"] == "EXPECTED"
    assert out[2][1]["km1"]["departure_date"] == "2026-03-05"
    assert out[2][1]["km1"]["departure_date_status"] == "CONFIRMED"


def test_an_enforced_return_changes_the_type_of_return():
    _, out = run([event(referral()), event(departure(return_type=m.ReturnType.ENFORCED, assisted=False))])
    assert out[-1][1]["km1"]["type_of_return"] == "FORCED_RETURN"


def test_a_dublin_transfer_is_not_a_return():
    state, _ = run([event(referral())])
    step = riat_step(state, event(departure(dublin_transfer=True)), CONFIG)
    assert step.skipped == (SkipReason.NOT_A_RETURN,)
    assert step.state == state


def test_status_from_riat_is_recorded_and_closure_stops_updates():
    state, _ = run([event(referral())])
    step = riat_step(state, event(status("R-1", "KM2_ARRIVAL_AND_PLAN")), CONFIG)
    assert step.messages == ()
    assert step.skipped == (SkipReason.FROM_RIAT,)
    assert step.state is not None
    assert step.state.referrals[0].stage == "KM2_ARRIVAL_AND_PLAN"
    closed = riat_step(step.state, event(status("R-1", "KM4_CLOSURE")), CONFIG)
    assert closed.state is not None
    assert closed.state.referrals[0].status == "CLOSED"
    after = riat_step(closed.state, event(referral(family_size=5)), CONFIG)
    assert after.messages == ()
    assert after.skipped == (SkipReason.REFERRAL_CLOSED,)
    unknown = riat_step(state, event(status("R-404", "KM2_ARRIVAL_AND_PLAN")), CONFIG)
    assert unknown.skipped == (SkipReason.UNKNOWN_REFERRAL,)


def test_a_cancelled_referral_closes_without_a_message():
    step = riat_step(None, event(referral(stage=m.ReintegrationStage.CANCELLED)), CONFIG)
    assert step.messages == ()
    assert step.skipped == (SkipReason.REFERRAL_CLOSED,)


def test_referrals_and_facts_are_per_member_state():
    _, out = run([event(referral(), ms="NL"), event(decision(), ms="BE")])
    assert kinds(out) == ["CASE_CREATION", "KM1_APPLICATION"]  # a Belgian decision is not the Dutch case's fact
    _, out = run([event(referral(), ms="NL"), event(referral(), ms="BE")])
    assert kinds(out) == ["CASE_CREATION", "KM1_APPLICATION"] * 2


def test_disabled_unknown_member_state_blank_id_and_other_events():
    assert riat_step(None, event(referral()), RiatConfig(enabled=False)).skipped == (SkipReason.DISABLED,)
    assert riat_step(None, event(referral(), ms="UNKNOWN"), CONFIG).skipped == (SkipReason.NO_MEMBER_STATE,)
    assert riat_step(None, event(referral(" ")), CONFIG).skipped == (SkipReason.NO_REFERRAL_ID,)
    other = m.NonReturnRecorded(
        decision_reference="RD-1", period_last_day=dt.date(2026, 4, 1), source=m.NonReturnSource.MONITOR
    )
    assert riat_step(None, event(other), CONFIG).skipped == (SkipReason.NOT_FOR_RIAT,)


def test_referrals_are_bounded_oldest_closed_first():
    config = RiatConfig(max_referrals=2)
    events = [event(referral("A")), event(referral("B", stage=m.ReintegrationStage.CANCELLED)), event(referral("C"))]
    state, _ = run(events, config)
    assert state is not None
    assert [r.referral_id for r in state.referrals] == ["A", "C"]


def test_the_state_round_trips_through_avro(tmp_path):
    from pydantic import BaseModel, ConfigDict

    from gateway.adapters.riat.config import DEFAULT_FIELDS, KM1_FIELDS
    from gateway.samples.riat_stories import riat_stories
    from gateway.state.model_schema import model_codec, write_schema_files

    class Holder(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")
        riat: RiatSubjectState | None = None

    write_schema_files(Holder, "test.riat.v1", tmp_path)
    codec = model_codec(Holder, tmp_path, "test.riat.v1.Holder")
    # every identity field whitelisted, so the optional parts of the state are filled too
    config = RiatConfig(fields={**DEFAULT_FIELDS, "KM1_UPDATE": KM1_FIELDS})
    seen_identity = False
    for story in riat_stories(2):
        state = None
        for e in story.events:
            state = riat_step(state, e, config).state
            holder = Holder(riat=state)
            assert codec.decode(codec.encode(holder)) == holder
            seen_identity |= any(r.identity is not None for r in (state.referrals if state else ()))
    assert seen_identity
