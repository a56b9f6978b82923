"""The life of a SIS return alert, story by story (Reg. 2018/1860 Art. 3, 4, 6, 7, 14)."""

from __future__ import annotations

import datetime as dt
import re
import typing

import pytest

from gateway.adapters.sis import SisConfig, SisSubjectState, SkipReason, sis_step
from gateway.adapters.sis.config import ExemptionCode
from gateway.adapters.sis.lifecycle import (
    MAX_ALERTS,
    alert_reference,
    entry_ban_alert_reference,
    prune_closed,
)
from gateway.adapters.sis.messages import (
    AlertCreate,
    AlertDelete,
    AlertUpdate,
    DocumentCategoryCode,
    EntryBanAlert,
    GenderCode,
    LegalGroundCode,
    MarkerCode,
    NonReturn,
)
from gateway.events import models as m
from gateway.state.model_schema import avro_named_types
from gateway.testing import examples
from tests.unit.adapters.sis.support import (
    CONFIG,
    T0,
    decision,
    departed,
    event,
    extended,
    identity,
    kinds,
    non_return,
    run,
    status,
    texts,
    valid_xml,
)

S = SkipReason


def test_story_create_extend_suspend_resume_depart():
    steps = run(
        [
            decision(),
            extended(new_last_day=dt.date(2026, 4, 22)),
            status("SUSPENDED"),
            status("RESUMED"),
            departed(),
        ]
    )
    assert [kinds(s) for s in steps] == [
        ["CREATE"],
        ["UPDATE"],
        ["UPDATE"],
        ["UPDATE"],
        ["CONFIRMATION_OF_RETURN", "DELETE"],
    ]
    create, extension, suspension, resumed = (s.messages[0] for s in steps[:4])
    assert isinstance(create, AlertCreate)
    assert create.alert.last_day == dt.date(2026, 4, 1)
    assert create.legal_basis == "Reg. 2018/1860 Art. 3, Art. 4(1)"
    assert isinstance(extension, AlertUpdate)
    assert extension.alert.last_day == dt.date(2026, 4, 22)
    assert "Art. 3(4)" in extension.legal_basis
    assert isinstance(suspension, AlertUpdate)
    assert (suspension.alert.suspended, suspension.alert.last_day) == (True, dt.date(2026, 4, 22))
    assert "Art. 3(5)" in suspension.legal_basis
    assert isinstance(resumed, AlertUpdate)
    assert (resumed.alert.suspended, resumed.alert.enforcement_postponed) == (False, False)
    delete = steps[-1].messages[1]
    assert isinstance(delete, AlertDelete)
    assert delete.ground == "RETURNED"
    # every message of the story is about the same alert
    refs = {msg.alert_reference for s in steps for msg in s.messages}
    assert refs == {alert_reference("NL", "RD-1")}
    [alert] = steps[-1].state.alerts
    assert (alert.status, alert.closed_ground, alert.identity) == ("CLOSED", "RETURNED", None)


def test_postponement_sets_y_and_resumed_lifts_both_flags():
    steps = run([decision(), status("ENFORCEMENT_POSTPONED"), status("SUSPENDED"), status("RESUMED")])
    alerts = [s.messages[0].alert for s in steps[1:]]  # type: ignore[union-attr]
    assert [(a.suspended, a.enforcement_postponed) for a in alerts] == [(False, True), (True, True), (False, False)]


def test_departure_with_entry_ban_pairs_delete_with_refusal_of_entry_alert():
    steps = run([decision(ban_days=1825), departed(at=dt.datetime(2026, 3, 28, 22, 15, tzinfo=dt.UTC))])
    assert kinds(steps[0]) == ["CREATE"]
    assert steps[0].messages[0].alert.entry_ban is True  # type: ignore[union-attr]
    assert kinds(steps[1]) == ["CONFIRMATION_OF_RETURN", "DELETE", "ENTRY_BAN_ALERT"]
    ban = steps[1].messages[2]
    assert isinstance(ban, EntryBanAlert)
    assert ban.alert_reference == entry_ban_alert_reference("NL", "RD-1") != alert_reference("NL", "RD-1")
    assert ban.decision_reference == "RD-1"
    assert ban.duration_days == 1825
    assert ban.expiry_date == dt.date(2026, 3, 28) + dt.timedelta(days=1825)
    assert ban.identity.surnames == ("EL AMRANI",)
    assert "2018/1861 Art. 24" in ban.legal_basis
    doc = valid_xml(ban)
    assert texts(doc)["RefusalGround"] == ["ENTRY_BAN"]
    assert "VoluntaryDepartureLastDay" not in texts(doc)  # nothing of the return alert beyond identity


def test_entry_ban_pairing_and_expiry_are_configurable():
    no_pair = CONFIG.model_copy(update={"pair_entry_ban_alert": False})
    steps = run([decision(ban_days=365), departed()], config=no_pair)
    assert kinds(steps[1]) == ["CONFIRMATION_OF_RETURN", "DELETE"]
    no_expiry = SisConfig(creating_authority="NL-IND", entry_ban_expiry_from_departure=False)
    ban = run([decision(ban_days=365), departed()], config=no_expiry)[1].messages[2]
    assert isinstance(ban, EntryBanAlert)
    assert (ban.duration_days, ban.expiry_date) == (365, None)
    unknown_duration = run([decision(ban_days=None).model_copy(update={"entry_ban": m.EntryBan(imposed=True)})])
    assert unknown_duration[0].messages[0].alert.entry_ban is True  # type: ignore[union-attr]


def test_departure_confirmed_by_sis_is_not_confirmed_back():
    steps = run([decision(), departed(evidence=("SIS_ART6_CONFIRMATION",))])
    assert kinds(steps[1]) == ["DELETE"]


def test_create_then_non_return_once_per_last_day():
    steps = run(
        [
            decision(),
            non_return(last_day=dt.date(2026, 4, 1)),
            non_return(last_day=dt.date(2026, 4, 1)),
            extended(new_last_day=dt.date(2026, 5, 1)),
            non_return(last_day=dt.date(2026, 4, 1)),
            non_return(last_day=dt.date(2026, 5, 1), source="NATIONAL_CHECK"),
        ]
    )
    assert [kinds(s) for s in steps] == [["CREATE"], ["NON_RETURN"], [], ["UPDATE"], [], ["NON_RETURN"]]
    assert steps[2].skipped == (S.NO_CHANGE,)
    assert steps[4].skipped == (S.SUPERSEDED,)
    first, last = steps[1].messages[0], steps[5].messages[0]
    assert isinstance(first, NonReturn)
    assert isinstance(last, NonReturn)
    assert (first.last_day, last.last_day) == (dt.date(2026, 4, 1), dt.date(2026, 5, 1))
    assert "Art. 7" in first.legal_basis


@pytest.mark.parametrize(("source", "reason"), [("SIS_ART7_NOTIFICATION", S.FROM_SIS), ("UNKNOWN", S.UNKNOWN_VALUE)])
def test_non_return_from_sis_or_of_unknown_source_is_not_echoed(source, reason):
    steps = run([decision(), non_return(source=source)])
    assert steps[1].messages == ()
    assert steps[1].skipped == (reason,)


def test_non_return_without_period_sends_nothing():
    steps = run([decision(last_day=None), non_return()])
    assert steps[0].messages[0].alert.last_day is None  # type: ignore[union-attr]
    assert steps[1].skipped == (S.NO_PERIOD,)


@pytest.mark.parametrize(
    ("new_status", "ground", "basis"),
    [
        ("WITHDRAWN", "WITHDRAWN", "withdrawn or annulled"),
        ("ANNULLED", "ANNULLED", "withdrawn or annulled"),
        ("RESIDENCE_RIGHT_GRANTED", "RESIDENCE_RIGHT_GRANTED", "residence permit or right"),
    ],
)
def test_withdrawal_annulment_residence_right_delete_and_later_events_send_nothing(new_status, ground, basis):
    steps = run(
        [
            decision(ban_days=365),
            status(new_status),
            extended(),
            status("SUSPENDED"),
            non_return(),
            departed(),
            departed(ref=None),
            decision(),
        ]
    )
    assert kinds(steps[1]) == ["DELETE"]
    delete = steps[1].messages[0]
    assert isinstance(delete, AlertDelete)
    assert delete.ground == ground
    assert basis in delete.legal_basis
    assert "Art. 14" in delete.legal_basis
    for later in steps[2:]:
        assert later.messages == ()
        assert later.skipped == (S.ALERT_CLOSED,)


@pytest.mark.parametrize("exemption", ["DETAINED_UNTIL_REMOVAL", "BORDER_IMMEDIATE_ENFORCEMENT"])
def test_exempt_decision_gets_no_alert_until_detention_ends(exemption):
    steps = run(
        [
            decision(exemption=m.AlertExemption(exemption)),
            extended(new_last_day=dt.date(2026, 5, 5)),
            status("SUSPENDED"),
            non_return(),
            status("DETENTION_ENDED"),
            status("DETENTION_ENDED"),
        ]
    )
    assert [s.skipped for s in steps[:4]] == [(S.EXEMPT,)] * 4
    assert all(s.messages == () for s in steps[:4])
    assert steps[0].state.alerts[0].status == "WITHHELD"
    assert kinds(steps[4]) == ["CREATE"]
    create = steps[4].messages[0]
    assert isinstance(create, AlertCreate)
    # the alert due at once carries what happened while it was withheld
    assert (create.alert.last_day, create.alert.suspended) == (dt.date(2026, 5, 5), True)
    assert "released from detention" in create.legal_basis
    assert steps[5].skipped == (S.NO_CHANGE,)


def test_exempt_decision_removed_enters_only_the_entry_ban_alert():
    exempt = decision(ban_days=730, exemption=m.AlertExemption.DETAINED_UNTIL_REMOVAL)
    steps = run([exempt, departed()])
    assert kinds(steps[1]) == ["ENTRY_BAN_ALERT"]
    off = SisConfig(creating_authority="NL-IND", entry_ban_alert_after_withheld=False)
    steps = run([exempt, departed()], config=off)
    assert (steps[1].messages, steps[1].skipped) == ((), (S.EXEMPT,))
    assert steps[1].state.alerts[0].status == "CLOSED"


def test_withdrawn_while_withheld_closes_without_message():
    steps = run(
        [decision(exemption=m.AlertExemption.DETAINED_UNTIL_REMOVAL), status("WITHDRAWN"), status("DETENTION_ENDED")]
    )
    assert (steps[1].messages, steps[1].skipped) == ((), (S.EXEMPT,))
    assert steps[2].skipped == (S.ALERT_CLOSED,)


def test_exemptions_honoured_are_configurable():
    unknown = run([decision(exemption=m.AlertExemption.UNKNOWN)])
    assert kinds(unknown[0]) == ["CREATE"]  # Art. 3 names two exemptions only
    none_honoured = SisConfig(creating_authority="NL-IND", honoured_exemptions=())
    assert kinds(run([decision(exemption=m.AlertExemption.DETAINED_UNTIL_REMOVAL)], config=none_honoured)[0]) == [
        "CREATE"
    ]


def test_correction_while_withheld_without_exemption_enters_the_alert():
    steps = run([decision(exemption=m.AlertExemption.BORDER_IMMEDIATE_ENFORCEMENT), decision()])
    assert kinds(steps[1]) == ["CREATE"]


@pytest.mark.parametrize(
    "payload",
    [
        extended(ref="RD-9"),
        status("SUSPENDED", ref="RD-9"),
        status("DETENTION_ENDED", ref="RD-9"),
        departed(ref="RD-9"),
        non_return(ref="RD-9"),
    ],
)
def test_events_for_a_decision_never_seen_send_nothing(payload):
    [step] = run([payload])
    assert (step.state, step.messages, step.skipped) == (None, (), (S.UNKNOWN_DECISION,))
    first, second = run([decision(), payload])
    assert second.skipped == (S.UNKNOWN_DECISION,)
    assert second.state == first.state


def test_decision_of_another_member_state_is_another_alert():
    first = sis_step(None, event(decision()), CONFIG)
    other = sis_step(first.state, event(extended(), ms="BE"), CONFIG)
    assert other.skipped == (S.UNKNOWN_DECISION,)


STORY = [
    decision(ban_days=365),
    extended(),
    status("SUSPENDED"),
    status("RESUMED"),
    non_return(last_day=dt.date(2026, 4, 22)),
    departed(),
]


@pytest.mark.parametrize("index", range(len(STORY)))
def test_the_same_event_twice_sends_nothing_the_second_time(index):
    state = None
    for p in STORY[:index]:
        state = sis_step(state, event(p), CONFIG).state
    again = event(STORY[index])
    first = sis_step(state, again, CONFIG)
    second = sis_step(first.state, again, CONFIG)
    assert first.messages
    assert second.messages == ()
    assert second.skipped in ((S.NO_CHANGE,), (S.ALERT_CLOSED,))
    assert second.state == first.state


def test_extension_to_the_same_last_day_sends_nothing():
    steps = run([decision(), extended(new_last_day=dt.date(2026, 4, 1))])
    assert (steps[1].messages, steps[1].skipped) == ((), (S.NO_CHANGE,))


def test_flag_already_set_sends_nothing():
    steps = run([decision(suspended=True), status("SUSPENDED")])
    assert steps[1].skipped == (S.NO_CHANGE,)


def test_correction_updates_only_when_alert_data_change():
    steps = run(
        [
            decision(),
            # not alert data: decision date, issuing authority, country of return, first day, travel doc expiry
            decision().model_copy(
                update={"issuing_authority": "OTHER", "country_of_return": "TUN", "decision_date": dt.date(2026, 2, 1)}
            ),
            decision(identity=identity(surnames=("EL-AMRANI",))),
            decision(identity=identity(surnames=("EL-AMRANI",)), ban_days=None),
        ]
    )
    assert steps[1].skipped == (S.NO_CHANGE,)
    assert kinds(steps[2]) == ["UPDATE"]
    update = steps[2].messages[0]
    assert isinstance(update, AlertUpdate)
    assert update.alert.identity.surnames == ("EL-AMRANI",)
    assert "correction" in update.legal_basis
    assert steps[3].skipped == (S.NO_CHANGE,)


def test_correction_of_entry_ban_duration_is_kept_for_the_entry_ban_alert_but_sends_nothing():
    steps = run([decision(ban_days=365), decision(ban_days=730), departed()])
    assert steps[1].skipped == (S.NO_CHANGE,)
    assert steps[1].state.alerts[0].entry_ban_duration_days == 730
    assert steps[2].messages[-1].duration_days == 730  # type: ignore[union-attr]


def test_departure_without_decision_reference():
    one = run([decision(), departed(ref=None)])
    assert kinds(one[1]) == ["CONFIRMATION_OF_RETURN", "DELETE"]
    two = run([decision("RD-1"), decision("RD-2"), departed(ref=None)])
    assert (two[2].messages, two[2].skipped) == ((), (S.AMBIGUOUS,))
    assert [a.status for a in two[2].state.alerts] == ["ACTIVE", "ACTIVE"]
    one_left = run([decision("RD-1"), decision("RD-2"), status("WITHDRAWN", ref="RD-1"), departed(ref=None)])
    assert {msg.decision_reference for msg in one_left[3].messages} == {"RD-2"}
    assert run([departed(ref=None)])[0].skipped == (S.UNKNOWN_DECISION,)
    assert run([decision(), departed(), departed(ref=None)])[2].skipped == (S.ALERT_CLOSED,)


def test_several_decisions_are_several_alerts():
    steps = run([decision("RD-1"), decision("RD-2", last_day=dt.date(2026, 6, 1)), extended("RD-2"), departed("RD-1")])
    assert [s.messages[0].alert_reference for s in steps[:2]] == [
        alert_reference("NL", "RD-1"),
        alert_reference("NL", "RD-2"),
    ]
    assert steps[2].messages[0].decision_reference == "RD-2"
    assert {msg.decision_reference for msg in steps[3].messages} == {"RD-1"}
    assert [(a.decision_reference, a.status) for a in steps[3].state.alerts] == [
        ("RD-1", "CLOSED"),
        ("RD-2", "ACTIVE"),
    ]


def test_alert_reference_is_stable_and_holds_no_personal_data():
    ref = alert_reference("NL", "IND-RB-2026-000123")
    assert ref == alert_reference("NL", "IND-RB-2026-000123")
    assert ref != alert_reference("BE", "IND-RB-2026-000123")
    assert ref != alert_reference("NL", "IND-RB-2026-000124")
    assert re.fullmatch(r"NL-RET-[0-9a-f]{32}", ref)
    assert re.fullmatch(r"NL-EB-[0-9a-f]{32}", entry_ban_alert_reference("NL", "IND-RB-2026-000123"))


def test_events_without_sis_effect_and_unusable_decisions():
    assert sis_step(None, examples.event(m.EventType.ASSISTANCE_GRANTED), CONFIG).skipped == (S.NOT_FOR_SIS,)
    assert sis_step(None, event(decision(), ms="UNKNOWN"), CONFIG).skipped == (S.NO_MEMBER_STATE,)
    assert sis_step(None, event(decision(ref="  ")), CONFIG).skipped == (S.NO_DECISION_REFERENCE,)
    assert run([decision(), status("UNKNOWN")])[1].skipped == (S.UNKNOWN_VALUE,)


def test_closed_alerts_keep_no_personal_data_and_are_pruned():
    steps = run([decision(warning_markers=(m.WarningMarker.VIOLENT,)), status("WITHDRAWN")])
    state = steps[1].state
    [alert] = state.alerts
    assert (alert.identity, alert.warning_markers, alert.last_day, alert.legal_ground) == (None, (), None, None)
    assert prune_closed(state, T0 + dt.timedelta(days=CONFIG.tombstone_days - 1), CONFIG) == state
    assert prune_closed(state, T0 + dt.timedelta(days=CONFIG.tombstone_days + 1), CONFIG) is None
    active = run([decision()])[0].state
    assert prune_closed(active, T0 + dt.timedelta(days=10_000), CONFIG) == active


def test_subject_state_is_bounded_dropping_tombstones_first():
    payloads: list[m.AvroModel] = [decision("OPEN-1")]
    for i in range(MAX_ALERTS + 3):
        payloads += [decision(f"RD-{i}"), status("WITHDRAWN", ref=f"RD-{i}")]
    state = run(payloads)[-1].state
    assert len(state.alerts) == MAX_ALERTS
    assert state.alerts[0].decision_reference == "OPEN-1"


def test_state_keeps_only_what_one_of_the_two_alerts_may_carry():
    dropped = {"warning_markers", "identity.place_of_birth", "identity.travel_document.number"}
    closed = CONFIG.closed_list.model_copy(
        update={"art4_points": {k: v for k, v in CONFIG.closed_list.art4_points.items() if k not in dropped}}
    )
    config = SisConfig(
        creating_authority="NL-IND",
        closed_list=closed,
        entry_ban_fields=("identity.surnames", "identity.travel_document.number", "entry_ban.duration_days"),
    )
    [step] = run([decision(warning_markers=(m.WarningMarker.ARMED,), ban_days=30)], config=config)
    [alert] = step.state.alerts
    assert alert.warning_markers == ()
    assert alert.identity.place_of_birth is None  # on neither whitelist
    assert alert.identity.document_number == "UZ1234567"  # the entry-ban alert may carry it
    create = step.messages[0]
    assert isinstance(create, AlertCreate)
    assert create.alert.identity.document_number is None  # the return alert may not
    ban = run([decision(ban_days=30), departed()], config=config)[1].messages[-1]
    assert isinstance(ban, EntryBanAlert)
    assert ban.identity.model_dump(exclude_defaults=True) == {
        "surnames": ("EL AMRANI",),
        "document_number": "UZ1234567",
    }


def test_state_is_plain_data_with_an_avro_form():
    state = run([decision(ban_days=365, warning_markers=(m.WarningMarker.ARMED,))])[-1].state
    assert SisSubjectState.model_validate(state.model_dump()) == state
    assert SisSubjectState.model_validate_json(state.model_dump_json()) == state
    names = avro_named_types(SisSubjectState, "eu.returns.gateway.test")
    assert {"eu.returns.gateway.test.SisAlertState", "eu.returns.gateway.test.IdentityData"} <= set(names)


@pytest.mark.parametrize(
    ("literal", "enum", "left_out"),
    [
        (GenderCode, m.Sex, {"UNKNOWN"}),
        (MarkerCode, m.WarningMarker, {"UNKNOWN"}),
        (DocumentCategoryCode, m.TravelDocumentType, {"UNKNOWN"}),
        (LegalGroundCode, m.LegalGround, {"UNKNOWN"}),
        (ExemptionCode, m.AlertExemption, set()),
    ],
)
def test_state_codes_follow_the_canonical_enums(literal, enum, left_out):
    assert set(typing.get_args(literal)) == {e.value for e in enum} - left_out


def test_docs_name_every_skip_reason_and_configuration_key():
    from tests.unit.adapters.sis.support import REPO

    text = (REPO / "docs" / "sis.md").read_text(encoding="utf-8")
    for reason in SkipReason:
        assert f"`{reason.value}`" in text
    for key in SisConfig.model_fields:
        assert f"`{key}" in text, key
