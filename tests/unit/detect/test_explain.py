"""explain and render_explanation: per rule, fires or not, with operator-readable reasons; no identity data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.detect.explain import RuleExplanation, explain, render_explanation
from gateway.detect.timeline import SubjectTimeline
from tests.unit.detect.support import (
    CAT,
    DEFAULT,
    MS,
    STATUS,
    applied,
    config,
    decision,
    departed,
    eid,
    entered,
    granted,
    hit,
    ids,
    refused,
    run,
    ts,
)

NOW = ts("2026-04-01")


def explained(events, cfg=DEFAULT, now=NOW) -> dict[str, RuleExplanation]:
    timeline, _ = run(events, cfg)
    assert timeline is not None
    return {e.rule_id: e for e in explain(timeline, cfg, now)}


def test_one_explanation_per_rule_in_id_order():
    timeline, _ = run([applied("a", "2026-03-05")])

    assert [e.rule_id for e in explain(timeline, DEFAULT, NOW)] == ["SM-1", "SM-2", "SM-3", "SM-4"]


# fires --------------------------------------------------------------------------------------------------------


def test_sm1_fires_with_the_grant_and_the_retention():
    e = explained([hit("h", "2026-03-01", granted_on="2025-11-03"), applied("a", "2026-03-05")])["SM-1"]

    assert e.fires
    assert e.evidence_ids == ids("h", "a")
    assert e.sentences[0] == (
        "SM-1 fires: the Eurodac hit of 2026-03-01 from BE (category APPLICANT, Art. 15) shows assistance granted by "
        "BE on 2025-11-03, before the application here on 2026-03-05; it counts until 2035-11-03 "
        "(10 years, Reg. 2024/1358 Art. 29)."
    )


def test_sm2_fires_with_the_gap():
    e = explained([departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")])["SM-2"]

    assert e.fires
    assert e.sentences == (
        "SM-2 fires: the application here on 2026-03-05 is 673 days after the assisted departure on 2024-05-01, "
        "within 1826 days.",
    )


def test_sm3_fires_and_lists_what_did_not_match():
    story = [
        departed("dep", "2025-03-02T10:00"),
        departed("u", "2025-03-10T10:00", assisted=False),
        entered("e", "2025-09-01T06:40"),
    ]

    e = explained(story)["SM-3"]

    assert e.fires
    assert e.sentences == (
        "SM-3 fires: the entry on 2025-09-01 is within 12 months of the assisted departure on 2025-03-02.",
        "Not a match: the departure on 2025-03-10 was not assisted.",
    )


def test_sm4_fires_on_open_application_and_on_later_grant():
    story = [hit("h1", "2026-01-10", status=STATUS.APPLIED), applied("a", "2026-03-05")]
    story.append(hit("h2", "2026-04-01", ms=MS.FR, granted_on="2026-03-20"))

    e = explained(story)["SM-4"]

    assert e.fires
    assert e.evidence_ids == ids("h1", "h2", "a")
    assert e.sentences == (
        "SM-4 fires: the Eurodac hit of 2026-01-10 from BE (category APPLICANT, Art. 15) shows an open application "
        "in BE, 54 days from the application here on 2026-03-05 (within 180 days).",
        "SM-4 fires: the Eurodac hit of 2026-04-01 from FR (category APPLICANT, Art. 15) shows assistance granted by "
        "FR on 2026-03-20, on or after the application here on 2026-03-05, while it was pending.",
    )


# does not fire ------------------------------------------------------------------------------------------------


def test_sm3_does_not_fire_after_a_departure_without_assistance():
    e = explained([departed("u", "2025-03-02T10:00", assisted=False), entered("e", "2025-09-01T06:40")])["SM-3"]

    assert not e.fires
    assert e.evidence_ids == ()
    assert "SM-3 does not fire: the departure on 2025-03-02 was not assisted." in e.sentences
    assert "SM-3 does not fire: there is no assisted departure." in e.sentences


def test_sm3_does_not_fire_after_the_window():
    e = explained([departed("dep", "2025-03-02T10:00"), entered("e", "2026-04-01T00:00")], now=ts("2026-05-01"))["SM-3"]

    assert e.sentences == (
        "SM-3 does not fire: the entry on 2026-04-01 is after the window of 12 months from the assisted departure "
        "on 2025-03-02, which ended on 2026-03-02.",
    )


def test_sm2_does_not_fire_before_the_departure_or_beyond_the_window():
    cfg = config({"rules": {"SM-2": {"window_days": 30}}})
    story = [applied("a1", "2024-04-01"), departed("dep", "2024-05-01T08:00"), applied("a2", "2024-07-01")]

    e = explained(story, cfg, now=ts("2024-08-01"))["SM-2"]

    assert e.sentences == (
        "SM-2 does not fire: the application here on 2024-04-01 is not after the assisted departure on 2024-05-01.",
        "SM-2 does not fire: the application here on 2024-07-01 is 61 days after the assisted departure on "
        "2024-05-01, beyond the window of 30 days.",
    )


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        (STATUS.REFUSED, "records that assistance was refused by BE"),
        (STATUS.WITHDRAWN, "records that assistance granted by BE was withdrawn"),
    ],
)
def test_sm1_and_sm4_do_not_fire_on_a_refused_or_withdrawn_application_abroad(status, phrase):
    e = explained([hit("h", "2026-03-01", status=status), applied("a", "2026-03-05")])

    for rule_id in ("SM-1", "SM-4"):
        assert not e[rule_id].fires
        assert e[rule_id].sentences == (
            f"{rule_id} does not fire: the Eurodac hit of 2026-03-01 from BE (category APPLICANT, Art. 15) {phrase}.",
        )


def test_hit_from_own_member_state_is_not_elsewhere():
    e = explained([hit("h", "2026-03-01", ms=MS.NL, granted_on="2025-11-03"), applied("a", "2026-03-05")])["SM-1"]

    assert e.sentences == (
        "SM-1 does not fire: the Eurodac hit of 2026-03-01 from NL (category APPLICANT, Art. 15) concerns this "
        "Member State (NL), not another one.",
    )


def test_ungranted_hit_without_status_names_the_setting():
    e = explained([hit("h", "2026-03-01", status=None, granted_flag=False), applied("a", "2026-03-05")])["SM-4"]

    assert not e.fires
    assert 'ungranted_without_status = "ignore"' in e.sentences[0]


def test_hit_past_its_retention_is_said_to_have_stopped_counting():
    cfg = config({"eurodac_retention": {"IRREGULAR_CROSSING": {"years": 5}}})
    grant_hit = hit("h", "2026-03-01", category=CAT.IRREGULAR_CROSSING, granted_on="2021-03-10")
    timeline, _ = run([grant_hit], cfg)
    timeline, _ = run([applied("a", "2026-03-05")], cfg, timeline)

    e = {x.rule_id: x for x in explain(timeline, cfg, ts("2026-03-09"))}
    later = {x.rule_id: x for x in explain(timeline, cfg, ts("2026-03-11"))}

    assert e["SM-1"].fires
    assert not later["SM-1"].fires
    assert (
        "SM-1 does not fire: the Eurodac hit of 2026-03-01 from BE (category IRREGULAR_CROSSING, Art. 15) stopped "
        "counting on 2026-03-10." in later["SM-1"].sentences
    )


def test_grant_elsewhere_after_the_application_is_not_sm1():
    e = explained([applied("a", "2026-03-05"), hit("h", "2026-04-01", granted_on="2026-03-20")])["SM-1"]

    assert e.sentences == (
        "SM-1 does not fire: the Eurodac hit of 2026-04-01 from BE (category APPLICANT, Art. 15) shows assistance "
        "granted by BE on 2026-03-20, not before the application here on 2026-03-05 (see SM-4).",
    )


def test_missing_facts_are_named():
    e = explained([refused("r", "2026-03-05")])

    assert e["SM-1"].sentences == (
        "SM-1 does not fire: there is no application or grant here.",
        "SM-1 does not fire: no Eurodac hit was received.",
        "SM-1 does not fire: the refusal here on 2026-03-05 is neither an application nor a grant.",
    )
    assert e["SM-3"].sentences == (
        "SM-3 does not fire: there is no assisted departure.",
        "SM-3 does not fire: there is no entry.",
    )


def test_a_switched_off_rule_says_so():
    cfg = config({"rules": {"SM-2": {"enabled": False}}})
    timeline, _ = run([departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")])

    e = explain(timeline, cfg, NOW)[1]

    assert (e.rule_id, e.enabled, e.fires) == ("SM-2", False, False)
    assert e.sentences == ("SM-2 does not fire: it is switched off in the configuration.",)


# agreement with observe ----------------------------------------------------------------------------------------

_EVENTS = [
    hit("h1", "2026-02-01", granted_on="2025-11-03"),
    hit("h2", "2026-02-20", status=STATUS.APPLIED, ms=MS.FR),
    hit("h3", "2026-02-20", status=STATUS.REFUSED, ms=MS.DE),
    hit("h4", "2026-02-21", ms=MS.NL),
    hit("h5", "2026-05-01", granted_on="2026-04-01", ms=MS.AT),
    departed("dep", "2025-04-01T08:00"),
    departed("u", "2025-04-02T08:00", assisted=False),
    applied("a1", "2026-03-05"),
    applied("a2", "2024-03-05"),
    granted("g", "2026-03-20"),
    entered("e1", "2025-10-01T06:00"),
    entered("e2", "2026-10-01T06:00"),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_EVENTS), min_size=1, max_size=8, unique_by=lambda e: e.event_id))
def test_explain_fires_exactly_for_what_observe_last_emitted(events):
    # Within retention and with every growth emitted, the last alert per rule carries the current evidence.
    timeline, _ = run(events)
    if timeline is None:
        return
    emitted = {e.rule_id: e.evidence_ids for e in timeline.emitted}

    for item in explain(timeline, DEFAULT, ts("2026-12-01")):
        assert item.fires == (item.rule_id in emitted)
        assert item.evidence_ids == emitted.get(item.rule_id, ())


# rendering ----------------------------------------------------------------------------------------------------


def test_render_lists_the_timeline_and_the_explanations():
    story = [decision("x", "2026-01-01T00:00"), departed("dep", "2025-03-02T10:00"), entered("e", "2025-09-01T06:40")]
    story.append(hit("h", "2026-03-01", avrr=False))
    timeline, _ = run(story)

    text = render_explanation(timeline, DEFAULT, NOW)

    assert text.startswith("Subject subject-nl-0001 (Member State NL), as of 2026-04-01 00:00 UTC\nTimeline:\n")
    assert f"2025-03-02 10:00 UTC  ASSISTED_DEPARTURE    case NL-CASE-1  event {eid('dep')}" in text
    assert f"2025-09-01 06:40 UTC  ENTRY                 case NL-CASE-1  event {eid('e')}" in text
    assert f"EURODAC_HIT           case NL-CASE-1  event {eid('h')}  from BE, APPLICANT, Art. 15, no AVRR" in text
    assert "  SM-3 Entry soon after an assisted departure: fires\n" in text
    assert (
        "    SM-3 fires: the entry on 2025-09-01 is within 12 months of the assisted departure on 2025-03-02.\n" in text
    )
    assert "  SM-1 Assistance here although another Member State granted it: does not fire\n" in text
    assert "    Legal basis: Reg. 2017/2226 Art. 16(2)" in text
    # the return decision carried an identity block; none of it (nor the event) reaches the timeline
    for identity in ("EL AMRANI", "YOUSSEF", "Oujda", "UZ1234567", "1994", eid("x")):
        assert identity not in text


def test_render_marks_expired_facts_and_empty_timelines():
    timeline, _ = run([departed("dep", "2020-03-02T10:00")])

    text = render_explanation(timeline, DEFAULT, ts("2026-01-01"))

    assert "(stopped counting on 2025-03-02)" in text
    assert "  (no facts)" in render_explanation(SubjectTimeline("s", "NL"), DEFAULT, NOW)
