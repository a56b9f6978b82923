"""Each rule fires on its planted case and stays silent on every look-alike (detector contract, rules SM-1..SM-4)."""

from __future__ import annotations

import pytest

from gateway.detect.rules import RULES, AvrrReading, read_avrr
from gateway.detect.timeline import AvrrElement, FactKind, HitDetails
from tests.unit.detect.support import (
    CAT,
    MS,
    STATUS,
    applied,
    config,
    decision,
    departed,
    entered,
    granted,
    hit,
    ids,
    refused,
    rule_ids,
    run,
)

# SM-1 ---------------------------------------------------------------------------------------------------------


def test_sm1_fires_on_application_after_hit_showing_grant_elsewhere():
    _, alerts = run([hit("h", "2026-03-01", granted_on="2025-11-03"), applied("a", "2026-03-05")])

    assert rule_ids(alerts) == ["SM-1"]
    assert alerts[0].evidence_ids == ids("h", "a")
    assert [e.role for e in alerts[0].evidence] == ["eurodac_hit", "application"]
    assert alerts[0].evidence[0].hit_member_state == "BE"


def test_sm1_fires_on_grant_here_too():
    _, alerts = run([hit("h", "2026-03-01", granted_on="2025-11-03"), granted("g", "2026-03-12")])

    assert rule_ids(alerts) == ["SM-1"]
    assert alerts[0].evidence_ids == ids("h", "g")


def test_sm1_reads_a_grant_from_the_flag_when_the_status_is_missing():
    _, alerts = run(
        [hit("h", "2026-03-01", status=None, granted_flag=True, granted_on="2025-11-03"), applied("a", "2026-03-05")]
    )

    assert rule_ids(alerts) == ["SM-1"]


@pytest.mark.parametrize("status", [STATUS.REFUSED, STATUS.WITHDRAWN])
def test_sm1_silent_when_the_application_abroad_was_refused_or_withdrawn(status):
    _, alerts = run([hit("h", "2026-03-01", status=status, granted_on="2025-11-03"), applied("a", "2026-03-05")])

    assert alerts == []


def test_sm1_silent_on_a_hit_from_the_subjects_own_member_state():
    _, alerts = run([hit("h", "2026-03-01", ms=MS.NL, granted_on="2025-11-03"), applied("a", "2026-03-05")])

    assert alerts == []


def test_sm1_silent_when_the_avrr_element_names_this_member_state():
    own_grant = hit("h", "2026-03-01", granted_on="2025-11-03")
    element = own_grant.payload.avrr.model_copy(update={"granting_member_state": MS.NL})
    own_grant = own_grant.model_copy(update={"payload": own_grant.payload.model_copy(update={"avrr": element})})

    _, alerts = run([own_grant, applied("a", "2026-03-05")])

    assert alerts == []


def test_sm1_silent_on_a_hit_without_avrr_element():
    _, alerts = run([hit("h", "2026-03-01", avrr=False), applied("a", "2026-03-05")])

    assert alerts == []


def test_sm1_silent_on_a_hit_outside_its_retention_window():
    # IRREGULAR_CROSSING keeps 5 years from the grant: 2015-01-10 + 5 years ends before the application.
    stale = hit("h", "2019-06-01", category=CAT.IRREGULAR_CROSSING, granted_on="2015-01-10")

    timeline, alerts = run([stale, applied("a", "2020-01-10")])

    assert alerts == []
    assert [f.kind for f in timeline.facts] == [FactKind.APPLICATION]


def test_sm1_silent_on_a_hit_already_expired_when_it_arrives():
    stale = hit("h", "2026-03-01", category=CAT.ILLEGAL_STAY, granted_on="2015-01-10")

    timeline, alerts = run([applied("a", "2026-03-05"), stale])

    assert alerts == []
    assert [f.kind for f in timeline.facts] == [FactKind.APPLICATION]


def test_sm1_silent_when_the_grant_elsewhere_is_not_before_the_application():
    _, alerts = run([applied("a", "2026-03-05"), hit("h", "2026-04-01", granted_on="2026-03-05")])

    assert "SM-1" not in rule_ids(alerts)


def test_sm1_counts_a_grant_without_date_from_the_day_of_the_hit():
    _, before = run([hit("h", "2026-03-01"), applied("a", "2026-03-05")])
    _, after = run([applied("a", "2026-03-05"), hit("h", "2026-03-10")])

    assert rule_ids(before) == ["SM-1"]
    assert rule_ids(after) == ["SM-4"]


@pytest.mark.parametrize("setting", ["ignore", "open"])
def test_sm1_silent_on_ungranted_hit_without_status(setting):
    ungranted = hit("h", "2026-03-01", status=None, granted_flag=False)

    _, alerts = run([ungranted, applied("a", "2026-03-05")], config({"ungranted_without_status": setting}))

    assert "SM-1" not in rule_ids(alerts)


def test_refusal_here_is_not_an_application():
    _, alerts = run([hit("h", "2026-03-01", granted_on="2025-11-03"), refused("r", "2026-03-05")])

    assert alerts == []


def test_grant_recorded_for_another_member_state_is_not_a_grant_here():
    _, alerts = run([hit("h", "2026-03-01", granted_on="2025-11-03"), granted("g", "2026-03-12", by=MS.FR)])

    assert alerts == []


# SM-2 ---------------------------------------------------------------------------------------------------------


def test_sm2_fires_on_application_after_assisted_departure():
    _, alerts = run([departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")])

    assert rule_ids(alerts) == ["SM-2"]
    assert alerts[0].evidence_ids == ids("dep", "a")
    assert dict(alerts[0].parameters) == {"sm2_window_days": "1826"}


def test_sm2_silent_after_departure_without_assistance():
    _, alerts = run([departed("dep", "2024-05-01T08:00", assisted=False), applied("a", "2026-03-05")])

    assert alerts == []


def test_sm2_silent_when_the_application_came_first():
    _, alerts = run([applied("a", "2024-04-01"), departed("dep", "2024-05-01T08:00")])

    assert alerts == []


@pytest.mark.parametrize("departure", ["2024-05-01T00:00", "2024-05-01T08:00", "2024-05-01T23:59"])
def test_sm2_silent_on_an_application_the_same_day_as_the_departure(departure):
    _, alerts = run([departed("dep", departure), applied("a", "2024-05-01")])

    assert alerts == []


@pytest.mark.parametrize(("application", "fires"), [("2025-05-01", True), ("2025-05-02", False)])
def test_sm2_window_is_configurable_and_inclusive(application, fires):
    cfg = config({"rules": {"SM-2": {"window_days": 365}}})

    _, alerts = run([departed("dep", "2024-05-01T23:30"), applied("a", application)], cfg)

    assert rule_ids(alerts) == (["SM-2"] if fires else [])


# SM-3 ---------------------------------------------------------------------------------------------------------


def test_sm3_fires_on_entry_within_the_window_after_assisted_departure():
    _, alerts = run([departed("dep", "2025-03-02T10:00"), entered("e", "2025-09-01T06:40")])

    assert rule_ids(alerts) == ["SM-3"]
    assert alerts[0].evidence_ids == ids("dep", "e")
    assert dict(alerts[0].parameters) == {"sm3_window_months": "12"}


@pytest.mark.parametrize(("entry", "fires"), [("2026-03-02T10:00", True), ("2026-03-02T10:01", False)])
def test_sm3_silent_on_entry_after_the_window(entry, fires):
    _, alerts = run([departed("dep", "2025-03-02T10:00"), entered("e", entry)])

    assert rule_ids(alerts) == (["SM-3"] if fires else [])


def test_sm3_window_clamps_to_the_end_of_a_shorter_month():
    cfg = config({"rules": {"SM-3": {"window_months": 1}}})

    _, inside = run([departed("dep", "2025-01-31T10:00"), entered("e", "2025-02-28T10:00")], cfg)
    _, outside = run([departed("dep", "2025-01-31T10:00"), entered("e", "2025-03-01T00:00")], cfg)

    assert rule_ids(inside) == ["SM-3"]
    assert outside == []


def test_sm3_silent_after_departure_without_assistance():
    _, alerts = run([departed("dep", "2025-03-02T10:00", assisted=False), entered("e", "2025-09-01T06:40")])

    assert alerts == []


def test_sm3_silent_on_entry_before_departure():
    _, alerts = run([entered("e", "2025-01-01T06:40"), departed("dep", "2025-03-02T10:00")])

    assert alerts == []


# SM-4 ---------------------------------------------------------------------------------------------------------


def test_sm4_fires_on_open_application_elsewhere_within_the_window():
    _, alerts = run([hit("h", "2026-01-10", status=STATUS.APPLIED), applied("a", "2026-03-05")])

    assert rule_ids(alerts) == ["SM-4"]
    assert alerts[0].evidence_ids == ids("h", "a")
    params = dict(alerts[0].parameters)
    assert params["sm4_window_days"] == "180"
    assert params["ungranted_without_status"] == "ignore"


def test_sm4_fires_on_grant_elsewhere_dated_after_the_application():
    _, alerts = run([applied("a", "2026-03-05"), hit("h", "2026-04-01", granted_on="2026-03-20")])

    assert rule_ids(alerts) == ["SM-4"]


def test_sm4_fires_on_grant_elsewhere_dated_on_the_application_day():
    _, alerts = run([applied("a", "2026-03-05"), hit("h", "2026-04-01", granted_on="2026-03-05")])

    assert rule_ids(alerts) == ["SM-4"]


@pytest.mark.parametrize(
    ("received", "fires"), [("2025-09-06", True), ("2025-09-05", False), ("2026-09-01", True), ("2026-09-02", False)]
)
def test_sm4_window_around_the_application(received, fires):
    # 2025-09-06 is 180 days before 2026-03-05, 2025-09-05 is 181; 2026-09-01 is 180 days after, 2026-09-02 181.
    _, alerts = run([hit("h", received, status=STATUS.APPLIED), applied("a", "2026-03-05")])

    assert rule_ids(alerts) == (["SM-4"] if fires else [])


@pytest.mark.parametrize("status", [STATUS.REFUSED, STATUS.WITHDRAWN])
def test_sm4_silent_when_the_application_abroad_was_refused(status):
    _, alerts = run([hit("h", "2026-01-10", status=status), applied("a", "2026-03-05")])

    assert alerts == []


def test_sm4_silent_on_hit_from_own_member_state():
    _, alerts = run([hit("h", "2026-01-10", ms=MS.NL, status=STATUS.APPLIED), applied("a", "2026-03-05")])

    assert alerts == []


@pytest.mark.parametrize(("setting", "fires"), [("ignore", False), ("open", True)])
def test_sm4_ungranted_hit_without_status_under_both_settings(setting, fires):
    ungranted = hit("h", "2026-01-10", status=None, granted_flag=False)

    _, alerts = run([ungranted, applied("a", "2026-03-05")], config({"ungranted_without_status": setting}))

    assert rule_ids(alerts) == (["SM-4"] if fires else [])


def test_sm4_grant_before_the_application_is_sm1_not_sm4():
    _, alerts = run([hit("h", "2026-01-10", granted_on="2026-01-02"), applied("a", "2026-03-05")])

    assert rule_ids(alerts) == ["SM-1"]


# every rule ---------------------------------------------------------------------------------------------------

PLANTED = {
    "SM-1": [hit("h", "2026-03-01", granted_on="2025-11-03"), applied("a", "2026-03-05")],
    "SM-2": [departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")],
    "SM-3": [departed("dep", "2025-03-02T10:00"), entered("e", "2025-09-01T06:40")],
    "SM-4": [hit("h", "2026-01-10", status=STATUS.APPLIED), applied("a", "2026-03-05")],
}


@pytest.mark.parametrize("rule_id", sorted(PLANTED))
def test_a_switched_off_rule_is_silent(rule_id):
    assert rule_ids(run(PLANTED[rule_id])[1]) == [rule_id]

    _, alerts = run(PLANTED[rule_id], config({"rules": {rule_id: {"enabled": False}}}))

    assert alerts == []


@pytest.mark.parametrize("rule_id", sorted(PLANTED))
def test_alerts_carry_the_rule_metadata_and_the_notice(rule_id):
    (alert,) = run(PLANTED[rule_id])[1]
    rule = next(r for r in RULES if r.rule_id == rule_id)

    assert alert.title == rule.title
    assert alert.legal_basis == rule.settings(config({})).legal_basis
    assert alert.subject_key == "subject-nl-0001"
    assert alert.member_state == "NL"
    assert alert.case_references == ("NL-CASE-1",)
    assert alert.notice == "A signal for a caseworker to look at; never a decision about a person."
    assert alert.supersedes is None


def test_irrelevant_events_between_do_not_change_the_outcome():
    story = [departed("dep", "2024-05-01T08:00"), decision("x", "2025-01-01T00:00"), applied("a", "2026-03-05")]

    assert rule_ids(run(story)[1]) == ["SM-2"]


def test_a_story_can_fire_several_rules_at_once():
    story = [
        departed("dep", "2025-03-02T10:00"),
        hit("h", "2025-06-01", granted_on="2025-02-01"),
        entered("e", "2025-09-01T06:40"),
        applied("a", "2025-09-10"),
    ]

    _, alerts = run(story)

    assert sorted(rule_ids(alerts)) == ["SM-1", "SM-2", "SM-3"]


@pytest.mark.parametrize(
    ("status", "granted_flag", "open_unknown", "reading"),
    [
        (STATUS.GRANTED, True, False, AvrrReading.GRANT),
        (None, True, False, AvrrReading.GRANT),
        (STATUS.APPLIED, False, False, AvrrReading.OPEN),
        (STATUS.REFUSED, False, False, AvrrReading.CLOSED),
        (STATUS.WITHDRAWN, True, False, AvrrReading.CLOSED),
        (None, False, False, AvrrReading.UNREAD),
        (None, False, True, AvrrReading.OPEN),
        (STATUS.UNKNOWN, True, False, AvrrReading.GRANT),
        (STATUS.UNKNOWN, False, False, AvrrReading.UNREAD),
    ],
)
def test_avrr_reading(status, granted_flag, open_unknown, reading):
    details = HitDetails("BE", CAT.APPLICANT, "Art. 15", AvrrElement(granted_flag, "BE", None, status))

    assert read_avrr(details, open_unknown) is reading


def test_avrr_reading_without_element():
    assert read_avrr(HitDetails("BE", CAT.APPLICANT, "Art. 15", None), False) is AvrrReading.ABSENT
