"""Eurodac AVRR updates: when they are due, to which datasets, and that each is sent once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from lxml import etree

from gateway.adapters.eurodac import (
    EurodacConfig,
    EurodacStep,
    EurodacSubjectState,
    Refused,
    Rendered,
    eurodac_step,
    render,
)
from gateway.adapters.eurodac.render import schema
from gateway.events import models as m
from tests.unit.adapters.builders import assert_simple_types, biometrics, event, granted, refused

ON = EurodacConfig(enabled=True)


def run(events: Iterable[m.CaseEvent], config: EurodacConfig = ON) -> list[EurodacStep]:
    state: EurodacSubjectState | None = None
    steps = []
    for e in events:
        step = eurodac_step(state, e, config)
        state = step.state
        steps.append(step)
    return steps


def rendered(step: EurodacStep, config: EurodacConfig = ON) -> list[etree._Element]:
    out = []
    for update in step.updates:
        doc = render(update, config)
        assert isinstance(doc, Rendered), doc
        root = etree.fromstring(doc.xml)
        assert schema().validate(root)
        out.append(root)
    return out


def text(root: etree._Element, local: str) -> str | None:
    found = root.find(f".//{{urn:eu:returns:gateway:eurodac-avrr:v1}}{local}")
    return None if found is None else found.text


def test_a_grant_updates_the_registered_dataset():
    _, step = run([event(biometrics(), case="NL-7"), event(granted(day=dt.date(2026, 4, 1)), case="NL-9")])
    (update,) = step.updates
    assert update.kind == "AVRR_GRANTED"
    assert update.dataset.reference_number == "NL-7"  # the dataset's own reference number, not the grant's case
    assert update.case_reference == "NL-9"
    (root,) = rendered(step)
    assert text(root, "referenceNumber") == "NL-7"
    assert text(root, "granted") == "true"
    assert text(root, "grantingMemberState") == "NL"
    assert text(root, "date") == "2026-04-01"
    assert text(root, "category") == "IRREGULAR_CROSSING"
    assert text(root, "article") == "Art. 22(1)"
    assert text(root, "withdrawnOn") is None
    avrr = root.find("{urn:eu:returns:gateway:eurodac-avrr:v1}avrr")
    assert avrr is not None
    assert "(to be confirmed)" in (avrr.get("point") or "")
    assert "point to be confirmed" in (text(root, "legalBasis") or "")


def test_a_grant_before_registration_is_sent_when_biometrics_arrive():
    first, second = run([event(granted()), event(biometrics())])
    assert first.updates == ()
    assert any("sent once biometrics are captured" in r for r in first.skipped)
    (update,) = second.updates
    assert update.kind == "AVRR_GRANTED"


def test_no_biometrics_no_update():
    steps = run([event(granted()), event(granted("OTHER")), event(refused())])
    assert all(s.updates == () for s in steps)


def test_another_member_states_registration_does_not_count():
    steps = run([event(biometrics(), ms="DE", case="DE-1"), event(granted(), ms="NL")])
    assert all(s.updates == () for s in steps)
    # ... and a later registration of its own does.
    (final,) = run([event(biometrics(), ms="DE"), event(granted(), ms="NL"), event(biometrics(), ms="NL")])[-1:]
    (update,) = final.updates
    assert update.dataset.member_state == "NL"


def test_the_same_grant_twice_gives_one_update():
    steps = run([event(biometrics()), event(granted()), event(granted()), event(biometrics())])
    assert [len(s.updates) for s in steps] == [0, 1, 0, 0]
    assert "seen before" in steps[2].skipped[0]


def test_a_withdrawal_is_sent_after_a_grant():
    steps = run([event(biometrics()), event(granted()), event(refused(day=dt.date(2026, 5, 2)))])
    (update,) = steps[2].updates
    assert update.kind == "AVRR_WITHDRAWN"
    (root,) = rendered(steps[2])
    assert text(root, "granted") == "false"
    assert text(root, "withdrawnOn") == "2026-05-02"
    assert text(root, "date") == "2026-04-01"
    assert update.update_id != steps[1].updates[0].update_id


def test_a_withdrawal_is_sent_once_and_an_old_grant_replayed_changes_nothing():
    steps = run([event(biometrics()), event(granted()), event(refused()), event(refused()), event(granted())])
    assert [len(s.updates) for s in steps] == [0, 1, 1, 0, 0]


def test_a_new_grant_after_a_withdrawal_is_sent():
    steps = run([event(biometrics()), event(granted()), event(refused()), event(granted(day=dt.date(2026, 6, 1)))])
    (update,) = steps[3].updates
    assert (update.kind, update.grant_date) == ("AVRR_GRANTED", dt.date(2026, 6, 1))


def test_a_refusal_without_a_grant_is_not_a_withdrawal():
    steps = run([event(biometrics()), event(refused())])
    assert steps[1].updates == ()
    assert "not a withdrawal" in steps[1].skipped[0]


def test_a_grant_withdrawn_before_registration_is_not_sent():
    steps = run([event(granted()), event(refused()), event(biometrics())])
    assert all(s.updates == () for s in steps)


def test_withdrawals_can_be_switched_off():
    config = EurodacConfig(enabled=True, send_withdrawals=False)
    steps = run([event(biometrics()), event(granted()), event(refused())], config)
    assert steps[2].updates == ()
    assert "send_withdrawals" in steps[2].skipped[0]


def test_disabled_sends_nothing_but_keeps_the_state_so_enabling_sends_what_is_due():
    off = EurodacConfig()
    assert off.enabled is False  # off until the Eurodac point is confirmed
    steps = run([event(biometrics()), event(granted())], off)
    assert steps[1].updates == ()
    assert "disabled" in steps[1].skipped[-1]
    later = eurodac_step(steps[1].state, event(granted("NL-OTHER")), ON)
    assert sorted(u.kind for u in later.updates) == ["AVRR_GRANTED", "AVRR_GRANTED"]


def test_every_own_dataset_is_updated_and_update_ids_are_stable():
    events = [
        event(biometrics(), case="NL-1"),
        event(biometrics("APPLICANT", "Art. 15(1)"), case="NL-2"),
        event(granted()),
    ]
    (update_a, update_b) = run(events)[-1].updates
    assert {update_a.dataset.reference_number, update_b.dataset.reference_number} == {"NL-1", "NL-2"}
    again = run(events)[-1].updates
    assert [u.update_id for u in again] == [update_a.update_id, update_b.update_id]


def test_unrelated_events_leave_no_state():
    step = eurodac_step(
        None, event(m.EntryRecorded(entered_at=event(granted()).occurred_at, border_crossing_point="X")), ON
    )
    assert step == EurodacStep(None)


def test_render_refuses_what_the_xsd_does_not_allow():
    steps = run([event(biometrics("UNKNOWN")), event(granted())])
    (update,) = steps[1].updates
    doc = render(update, ON)
    assert isinstance(doc, Refused)
    assert "UNKNOWN" in doc.reason
    bad = update.model_copy(update={"dataset": update.dataset.model_copy(update={"reference_number": "a\x00b"})})
    assert isinstance(render(bad, ON), Refused)
    spaced = update.model_copy(update={"dataset": update.dataset.model_copy(update={"reference_number": " NL-1"})})
    assert isinstance(render(spaced, ON), Refused)


def test_the_state_has_only_simple_field_types():
    """The lead persists the state as Avro: str, int, bool, dates, tuples and nested models only, no Enum."""
    assert_simple_types(EurodacSubjectState)
