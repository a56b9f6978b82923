"""observe: new-evidence emission, supersedes, replay, expiry by event time, alert ids and order of arrival."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from gateway.detect.alerts import ALERT_NAMESPACE, alert_id
from gateway.detect.observe import observe
from gateway.detect.plan import build_plan
from gateway.detect.timeline import MAX_TIME, FactKind, SubjectTimeline, add_months, fold, retention_periods
from gateway.events import models as m
from gateway.testing import examples
from tests.unit.detect.support import (
    CAT,
    DEFAULT,
    STATUS,
    applied,
    by_rule,
    config,
    decision,
    departed,
    eid,
    entered,
    granted,
    hit,
    ids,
    refused,
    rule_ids,
    run,
    ts,
)

# new evidence -------------------------------------------------------------------------------------------------


def test_second_application_re_emits_with_superset_and_supersedes():
    _, alerts = run([departed("dep", "2024-05-01T08:00"), applied("a1", "2026-03-05"), applied("a2", "2026-04-01")])

    first, second = by_rule(alerts, "SM-2")
    assert first.evidence_ids == ids("dep", "a1")
    assert second.evidence_ids == ids("dep", "a1", "a2")
    assert second.supersedes == first.alert_id
    assert first.supersedes is None


def test_replaying_the_same_event_emits_nothing_and_changes_nothing():
    timeline, alerts = run([departed("dep", "2024-05-01T08:00"), applied("a1", "2026-03-05")])
    assert len(alerts) == 1

    again = observe(timeline, applied("a1", "2026-03-05"), DEFAULT)

    assert again.alerts == ()
    assert again.timeline is timeline


def test_replaying_a_whole_story_emits_nothing_more():
    story = [departed("dep", "2024-05-01T08:00"), applied("a1", "2026-03-05"), entered("e", "2024-09-01T00:00")]
    timeline, alerts = run(story)
    assert sorted(rule_ids(alerts)) == ["SM-2", "SM-3"]

    replayed, more = run(story, timeline=timeline)

    assert more == []
    assert replayed == timeline


def test_a_set_that_only_shrinks_by_expiry_emits_nothing():
    cfg = config({"national_retention_days": 400})
    timeline, alerts = run([departed("d1", "2025-01-01T08:00"), departed("d2", "2025-06-01T08:00")], cfg)
    timeline, alerts = run([applied("a", "2025-07-01")], cfg, timeline)
    assert alerts[0].evidence_ids == ids("d1", "d2", "a")

    # d1 expires on 2026-02-05; a later assisted departure matches nothing, so SM-2 is evaluated on {d2, a}.
    timeline, alerts = run([departed("d3", "2026-03-01T08:00")], cfg, timeline)

    assert alerts == []
    assert eid("d1") not in {f.event_id for f in timeline.facts}
    assert timeline.last_alert("SM-2").evidence_ids == ids("d1", "d2", "a")


def test_new_evidence_after_a_shrink_emits_again_and_supersedes():
    cfg = config({"national_retention_days": 400})
    story = [departed("d1", "2025-01-01T08:00"), departed("d2", "2025-06-01T08:00"), applied("a1", "2025-07-01")]
    timeline, first = run(story, cfg)

    timeline, alerts = run([applied("a2", "2026-03-01")], cfg, timeline)

    (alert,) = alerts
    assert alert.evidence_ids == ids("d2", "a1", "a2")
    assert alert.supersedes == first[0].alert_id


def test_an_alert_is_forgotten_when_all_its_evidence_expired():
    cfg = config({"national_retention_days": 100})
    story = [departed("d1", "2025-01-01T08:00"), applied("a1", "2025-02-01"), refused("r", "2025-03-01")]
    timeline, _ = run(story, cfg)
    assert timeline.last_alert("SM-2") is not None

    # d1 expired on 2025-04-11, a1 on 2025-05-12; r counts until 2025-06-09
    timeline, alerts = run([departed("d2", "2025-05-20T08:00")], cfg, timeline)

    # the refusal keeps the entry alive; nothing is kept about the expired departure and application
    assert alerts == []
    assert timeline.last_alert("SM-2") is None
    assert [f.event_id for f in timeline.facts] == [eid("r"), eid("d2")]


def test_everything_is_forgotten_when_every_fact_expired():
    cfg = config({"national_retention_days": 100})
    timeline, _ = run([departed("d1", "2025-01-01T08:00"), applied("a1", "2025-02-01")], cfg)

    timeline, alerts = run([departed("d2", "2026-01-01T08:00")], cfg, timeline)

    assert alerts == []
    assert timeline == SubjectTimeline("subject-nl-0001", "NL", timeline.facts, ())
    assert [f.event_id for f in timeline.facts] == [eid("d2")]


# alert ids ----------------------------------------------------------------------------------------------------


def test_alert_id_is_uuid5_of_subject_rule_and_sorted_evidence():
    _, (alert,) = run([departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")])

    name = f"subject-nl-0001|SM-2|{','.join(sorted([eid('dep'), eid('a')]))}"
    assert alert.alert_id == str(uuid.uuid5(ALERT_NAMESPACE, name))
    assert alert_id("subject-nl-0001", "SM-2", [eid("a"), eid("dep")]) == alert.alert_id


def test_alert_namespace_is_the_documented_constant():
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:eu.returns.gateway:alerts:v1") == ALERT_NAMESPACE


def test_alerts_are_deterministic_and_detected_at_is_not_compared():
    story = [hit("h", "2026-03-01", granted_on="2025-11-03"), applied("a", "2026-03-05")]

    _, one = run(story)
    _, two = run(story)
    later = observe(run(story[:1])[0], story[1], DEFAULT, detected_at=ts("2030-01-01")).alerts

    assert one == two
    assert one == list(later)
    assert later[0].detected_at == ts("2030-01-01")
    assert one[0].detected_at == story[1].recorded_at


def test_alert_id_differs_per_subject_and_rule():
    assert alert_id("s1", "SM-1", ["x"]) != alert_id("s2", "SM-1", ["x"])
    assert alert_id("s1", "SM-1", ["x"]) != alert_id("s1", "SM-4", ["x"])
    assert alert_id("s1", "SM-1", ["x", "y"]) == alert_id("s1", "SM-1", ["y", "x"])


def test_evidence_is_ordered_by_time_and_event_time_is_the_latest():
    _, (alert,) = run([applied("a", "2026-03-05"), departed("dep", "2024-05-01T08:00")])

    assert [e.event_id for e in alert.evidence] == [eid("dep"), eid("a")]
    assert alert.event_time == applied("a", "2026-03-05").occurred_at


# order of arrival ---------------------------------------------------------------------------------------------

STORY = [
    hit("h1", "2026-02-01", granted_on="2025-11-03"),
    hit("h2", "2026-02-20", status=STATUS.APPLIED, ms=m.MemberState.FR),
    departed("dep", "2025-04-01T08:00"),
    applied("a", "2026-03-05"),
    entered("e", "2025-10-01T06:00"),
]


def _final(events):
    timeline, _ = run(events)
    return {e.rule_id: (e.evidence_ids, e.alert_id) for e in timeline.emitted}, timeline


def test_hit_before_or_after_application_gives_the_same_final_evidence():
    application, grant_hit = applied("a", "2026-03-05"), hit("h", "2026-03-01", granted_on="2025-11-03")

    assert _final([grant_hit, application]) == _final([application, grant_hit])
    assert _final([grant_hit, application])[0]["SM-1"][0] == ids("h", "a")


def test_every_order_of_arrival_gives_the_same_final_evidence_and_timeline():
    expected = _final(STORY)
    assert set(expected[0]) == {"SM-1", "SM-2", "SM-3", "SM-4"}

    for order in itertools.permutations(STORY):
        assert _final(order) == expected


# irrelevant events and early return ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    [
        m.EventType.RETURN_DECISION_ISSUED,
        m.EventType.VOLUNTARY_DEPARTURE_EXTENDED,
        m.EventType.RETURN_DECISION_STATUS_CHANGED,
        m.EventType.REINTEGRATION_REFERRAL,
        m.EventType.REINTEGRATION_STATUS_CHANGED,
        m.EventType.NON_RETURN_RECORDED,
        m.EventType.BIOMETRICS_CAPTURED,
    ],
)
def test_irrelevant_event_leaves_the_same_timeline_and_emits_nothing(event_type):
    timeline, _ = run([departed("dep", "2024-05-01T08:00")])
    irrelevant = examples.event(event_type).model_copy(update={"occurred_at": ts("2040-01-01")})

    result = observe(timeline, irrelevant, DEFAULT)

    # Not even expiry runs: the departure has long expired by 2040, but this event cannot bring evidence.
    assert result.timeline is timeline
    assert result.alerts == ()
    assert result.expires_at == timeline.expires_at
    assert observe(None, irrelevant, DEFAULT) == (None, (), None)


def test_facts_of_a_switched_off_rule_are_not_kept():
    cfg = config({"rules": {"SM-3": {"enabled": False}}})

    timeline, _ = run([entered("e", "2025-09-01T06:40")], cfg)

    assert timeline is None


def test_only_rules_a_fact_can_change_are_evaluated():
    plan = build_plan(DEFAULT)
    by_kind = {k: [r.rule_id for r in rules] for k, rules in plan.rules_by_kind.items()}

    assert by_kind == {
        FactKind.APPLICATION: ["SM-1", "SM-2", "SM-4"],
        FactKind.GRANT: ["SM-1"],
        FactKind.REFUSAL: [],
        FactKind.ASSISTED_DEPARTURE: ["SM-2", "SM-3"],
        FactKind.UNASSISTED_DEPARTURE: [],
        FactKind.ENTRY: ["SM-3"],
        FactKind.EURODAC_HIT: ["SM-1", "SM-4"],
    }


def test_explanation_only_facts_are_kept_without_alerts():
    story = [
        refused("r", "2026-03-05"),
        departed("u", "2025-01-01T00:00", assisted=False),
        hit("n", "2026-01-01", avrr=False),
    ]

    timeline, alerts = run(story)

    assert alerts == []
    assert [f.kind for f in timeline.facts] == [FactKind.UNASSISTED_DEPARTURE, FactKind.EURODAC_HIT, FactKind.REFUSAL]


# retention and expiry ---------------------------------------------------------------------------------------------

RETENTION_YEARS = {
    CAT.APPLICANT: 10,
    CAT.IRREGULAR_CROSSING: 5,
    CAT.ILLEGAL_STAY: 5,
    CAT.SEARCH_AND_RESCUE: 5,
    CAT.NATIONAL_RESETTLEMENT: 5,
    CAT.RESETTLEMENT_ADMITTED: 5,
    CAT.TEMPORARY_PROTECTION: 1,
    CAT.UNKNOWN: 1,
}


@pytest.mark.parametrize(("category", "years"), sorted(RETENTION_YEARS.items()))
def test_hit_retention_per_category_from_the_grant_date(category, years):
    timeline = fold(
        None, hit("h", "2020-06-01", category=category, granted_on="2020-02-29"), retention_periods(DEFAULT)
    )

    expected = dt.datetime(2020 + years, 2, 29 if (2020 + years) % 4 == 0 else 28, tzinfo=dt.UTC)
    assert timeline.facts[0].expires_at == expected


@pytest.mark.parametrize(("category", "years"), sorted(RETENTION_YEARS.items()))
def test_sm1_stops_at_the_end_of_the_hits_retention(category, years):
    grant_hit = hit("h", "2020-03-01", category=category, granted_on="2020-01-15")
    last_day = f"{2020 + years}-01-14"
    first_day_after = f"{2020 + years}-01-15"

    assert rule_ids(run([grant_hit, applied("a", last_day)])[1]) == ["SM-1"]
    assert rule_ids(run([grant_hit, applied("a", first_day_after)])[1]) == []


def test_a_late_hit_that_expired_before_the_application_does_not_match():
    # The application (2025-03-01) is observed first; the hit arrives late with its own, earlier, event time, so it
    # is live when it arrives, but its retention (grant 2019-06-01 + 5 years) ended before the application.
    late = hit("h", "2024-03-01", category=CAT.IRREGULAR_CROSSING, granted_on="2019-06-01")

    timeline, alerts = run([applied("a", "2025-03-01"), late])

    assert alerts == []
    assert eid("h") in {f.event_id for f in timeline.facts}


def test_hit_retention_counts_from_the_hit_without_grant_date():
    timeline = fold(None, hit("h", "2026-03-01T10:00", category=CAT.IRREGULAR_CROSSING), retention_periods(DEFAULT))

    assert timeline.facts[0].expires_at == ts("2031-03-01T10:00")


def test_retention_of_a_category_is_configurable():
    cfg = config({"eurodac_retention": {"TEMPORARY_PROTECTION": {"years": 3}}})
    grant_hit = hit("h", "2026-01-10", category=CAT.TEMPORARY_PROTECTION, granted_on="2025-01-10")

    assert rule_ids(run([grant_hit, applied("a", "2027-01-10")])[1]) == []
    assert rule_ids(run([grant_hit, applied("a", "2027-01-10")], cfg)[1]) == ["SM-1"]


def test_own_facts_expire_after_national_retention():
    timeline = fold(None, departed("dep", "2024-05-01T08:00"), retention_periods(DEFAULT))

    assert timeline.facts[0].expires_at == ts("2024-05-01T08:00") + dt.timedelta(days=1826)


def test_expiry_is_by_event_time_not_wall_clock():
    timeline, _ = run([departed("dep", "2000-05-01T08:00")])
    # The departure expired in 2005 by any wall clock after that; an event of 2001 still sees it.
    timeline, alerts = run([applied("a", "2001-01-01")], timeline=timeline)

    assert rule_ids(alerts) == ["SM-2"]

    timeline, alerts = run([applied("b", "2005-05-01")], timeline=timeline)
    assert alerts == []
    assert eid("dep") not in {f.event_id for f in timeline.facts}


def test_timeline_is_none_when_nothing_is_left():
    timeline, _ = run([departed("dep", "2020-05-01T08:00")])

    result = observe(
        timeline, hit("h", "2026-03-01", category=CAT.IRREGULAR_CROSSING, granted_on="2015-01-01"), DEFAULT
    )

    assert result == (None, (), None)


def test_observation_expires_at_is_the_latest_fact_expiry():
    timeline, _ = run([departed("dep", "2024-05-01T08:00")])

    result = observe(timeline, hit("h", "2026-03-01", granted_on="2025-11-03"), DEFAULT)

    assert result.expires_at == dt.datetime(2035, 11, 3, tzinfo=dt.UTC)
    assert result.expires_at == max(f.expires_at for f in result.timeline.facts)


def test_new_timeline_takes_subject_and_member_state_from_the_event():
    result = observe(None, granted("g", "2026-03-12"), DEFAULT)

    assert (result.timeline.subject_key, result.timeline.member_state) == ("subject-nl-0001", "NL")
    assert result.alerts == ()


def test_observe_does_not_touch_identity_data():
    story = [decision("x", "2026-01-01T00:00"), departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")]
    timeline, alerts = run(story)

    text = repr(timeline) + repr(alerts)

    assert "EL AMRANI" not in text
    assert "YOUSSEF" not in text
    assert eid("x") not in text


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2025-03-30T10:00", 1, "2025-04-30T10:00"),
        ("2025-01-31T10:00", 1, "2025-02-28T10:00"),
        ("2024-01-31T10:00", 1, "2024-02-29T10:00"),
        ("2024-02-29T00:00", 12, "2025-02-28T00:00"),
        ("2024-02-29T00:00", 48, "2028-02-29T00:00"),
        ("2025-11-15T10:00", 3, "2026-02-15T10:00"),
        ("2025-12-31T23:59", 12, "2026-12-31T23:59"),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, end):
    assert add_months(ts(start), months) == ts(end)


def test_add_months_saturates_at_the_end_of_time():
    assert add_months(ts("9995-06-01"), 120) == MAX_TIME
