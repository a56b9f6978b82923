"""Avro forms of the detector's state and alerts: the schemas follow the house layout, values round-trip."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.codec.schemas import load_root, read_named_types
from gateway.detect.alerts import ALERT_ROOT, ALERT_SCHEMA_DIR, alert_codec, alert_from_avro, alert_to_avro
from gateway.detect.observe import observe
from gateway.detect.state_codec import (
    STATE_SCHEMA_DIR,
    TIMELINE_ROOT,
    timeline_codec,
    timeline_from_avro,
    timeline_to_avro,
)
from gateway.detect.timeline import AvrrElement, EmittedAlert, Fact, FactKind, HitDetails, SubjectTimeline
from gateway.errors import DecodeError
from gateway.evolution.compat import enum_default_findings
from gateway.evolution.history import expand
from gateway.testing.strategies import case_events, utc_millis
from tests.unit.detect.support import CAT, DEFAULT, MS, STATUS, applied, departed, entered, hit, run

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIMELINES = timeline_codec()
ALERTS = alert_codec()
FOLDERS = [
    (STATE_SCHEMA_DIR, TIMELINE_ROOT, "eu.returns.gateway.state.v1"),
    (ALERT_SCHEMA_DIR, ALERT_ROOT, "eu.returns.gateway.alerts.v1"),
]

# schemas ------------------------------------------------------------------------------------------------------


def _named(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _named(item)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed"):
            found.add(f"{node['namespace']}.{node['name']}")
        for value in node.values():
            found |= _named(value)
    return found


def _own_types(folder: Path, root: str) -> dict[str, dict[str, Any]]:
    # The folder is shared with other state values (e.g. the validation CaseState): check only this root's types.
    used = _named(expand(folder, root))
    return {name: t for name, t in read_named_types(folder).items() if name in used}


@pytest.mark.parametrize(("folder", "root", "namespace"), FOLDERS)
def test_schema_folder_loads_and_is_self_contained(folder: Path, root: str, namespace: str):
    read_named_types(folder)  # checks each file is named by its type's full name

    assert load_root(folder, root)["name"] == root
    # the root expands from this folder alone (expand raises KeyError on a name no file defines), in one namespace,
    # and names nothing of the canonical namespace
    expanded = expand(folder, root)
    assert {name.rpartition(".")[0] for name in _named(expanded)} == {namespace}
    assert "eu.returns.gateway.v1" not in json.dumps(expanded)


@pytest.mark.parametrize(("folder", "root", "namespace"), FOLDERS)
def test_every_type_and_field_has_a_doc(folder: Path, root: str, namespace: str):
    types = _own_types(folder, root)
    assert root in types

    for name, t in types.items():
        assert t.get("doc"), name
        for f in t.get("fields", []):
            assert f.get("doc"), f"{name}.{f['name']}"


@pytest.mark.parametrize(("folder", "root", "namespace"), FOLDERS)
def test_enums_can_grow(folder: Path, root: str, namespace: str):
    assert list(enum_default_findings(expand(folder, root))) == []
    for t in _own_types(folder, root).values():
        if t["type"] == "enum":
            assert t["default"] == "UNKNOWN"
            assert "UNKNOWN" in t["symbols"]


def test_state_schema_types():
    assert set(_own_types(STATE_SCHEMA_DIR, TIMELINE_ROOT)) == {
        f"eu.returns.gateway.state.v1.{n}"
        for n in ("SubjectTimeline", "Fact", "FactKind", "HitDetails", "AvrrElement", "EmittedAlert")
    }
    assert set(_own_types(ALERT_SCHEMA_DIR, ALERT_ROOT)) == {
        "eu.returns.gateway.alerts.v1.SecondaryMovementSuspected",
        "eu.returns.gateway.alerts.v1.Evidence",
    }


def test_fact_kind_enum_matches_python():
    symbols = read_named_types(STATE_SCHEMA_DIR)["eu.returns.gateway.state.v1.FactKind"]["symbols"]

    assert symbols == [k.value for k in FactKind] + ["UNKNOWN"]


def test_alert_schema_fields_are_the_contracts():
    fields = [f["name"] for f in load_root(ALERT_SCHEMA_DIR, ALERT_ROOT)["fields"]]

    assert fields == [
        "alert_id",
        "rule_id",
        "title",
        "legal_basis",
        "subject_key",
        "member_state",
        "case_references",
        "evidence",
        "event_time",
        "detected_at",
        "parameters",
        "supersedes",
        "notice",
    ]


# round trips --------------------------------------------------------------------------------------------------

STORY = [
    departed("dep", "2024-05-01T08:00"),
    hit("h1", "2026-02-01", granted_on="2025-11-03"),
    hit("h2", "2026-02-20", status=STATUS.APPLIED, ms=MS.FR, category=CAT.ILLEGAL_STAY),
    hit("h3", "2026-02-21", status=None, granted_flag=False),
    hit("h4", "2026-02-22", avrr=False),
    entered("e", "2024-10-01T06:00"),
    applied("a", "2026-03-05"),
]


def test_timeline_round_trips():
    timeline, _ = run(STORY)
    assert len(timeline.emitted) == 4

    assert TIMELINES.decode(TIMELINES.encode(timeline)) == timeline


def test_alerts_round_trip_including_detected_at():
    _, alerts = run(STORY)
    assert alerts

    for alert in alerts:
        back = ALERTS.decode(ALERTS.encode(alert))
        assert back == alert
        assert back.detected_at == alert.detected_at
        assert back.parameters == alert.parameters


def test_superseding_alert_round_trips():
    _, alerts = run([departed("dep", "2024-05-01T08:00"), applied("a1", "2026-03-05"), applied("a2", "2026-04-01")])

    assert ALERTS.decode(ALERTS.encode(alerts[1])).supersedes == alerts[0].alert_id


def test_unknown_fact_kind_is_dropped_and_unknown_symbols_read_as_unknown():
    timeline, _ = run(STORY)
    record = timeline_to_avro(timeline)
    record["facts"][0]["kind"] = "UNKNOWN"
    record["facts"][1]["hit"] = {
        "hit_member_state": "BE",
        "category": "SOME_LATER_CATEGORY",
        "article": "Art. 99",
        "avrr": {"granted": True, "member_state": "BE", "granted_on": None, "status": "SOME_LATER_STATUS"},
    }

    back = timeline_from_avro(record)

    assert len(back.facts) == len(timeline.facts) - 1
    assert back.facts[0].hit.category is CAT.UNKNOWN
    assert back.facts[0].hit.avrr.status is STATUS.UNKNOWN


def test_decode_rejects_foreign_bytes():
    with pytest.raises(DecodeError):
        TIMELINES.decode(b"not a timeline")
    with pytest.raises(DecodeError):
        ALERTS.decode(TIMELINES.encode(SubjectTimeline("s", "NL")))


def test_writer_rejects_a_value_that_does_not_fit():
    record = timeline_to_avro(SubjectTimeline("s", "NL"))
    record["facts"] = [{"kind": "APPLICATION"}]

    with pytest.raises((ValueError, TypeError, KeyError)):
        schemaless_writer(io.BytesIO(), TIMELINES.schema, record)


def test_alert_avro_form_is_plain_data():
    _, (alert,) = run([departed("dep", "2024-05-01T08:00"), applied("a", "2026-03-05")])

    record = alert_to_avro(alert)

    assert record["parameters"] == {"sm2_window_days": "1826"}
    assert record["supersedes"] is None
    assert alert_from_avro(record) == alert


# property -----------------------------------------------------------------------------------------------------

_ms = st.sampled_from([s.value for s in MS])
_ids = st.uuids().map(str)


@st.composite
def hits(draw: st.DrawFn) -> HitDetails:
    avrr = draw(
        st.none()
        | st.builds(
            AvrrElement,
            st.booleans(),
            _ms,
            st.none() | st.dates(),
            st.none() | st.sampled_from(list(STATUS)),
        )
    )
    return HitDetails(draw(_ms), draw(st.sampled_from(list(CAT))), draw(st.text(max_size=12)), avrr)


@st.composite
def facts(draw: st.DrawFn, event_id: str) -> Fact:
    kind = draw(st.sampled_from(list(FactKind)))
    hit_details = draw(hits()) if kind is FactKind.EURODAC_HIT else None
    return Fact(
        kind,
        event_id,
        draw(utc_millis()),
        draw(utc_millis()),
        draw(st.text(max_size=20)),
        draw(utc_millis()),
        hit_details,
    )


@st.composite
def timelines(draw: st.DrawFn) -> SubjectTimeline:
    event_ids = draw(st.lists(_ids, max_size=8, unique=True))
    fact_tuple = tuple(draw(facts(i)) for i in event_ids)
    emitted = tuple(
        EmittedAlert(rule, draw(_ids), tuple(sorted(draw(st.lists(_ids, max_size=4)))))
        for rule in draw(st.lists(st.sampled_from(["SM-1", "SM-2", "SM-3", "SM-4"]), unique=True))
    )
    return SubjectTimeline(draw(st.text(max_size=24)), draw(_ms), fact_tuple, emitted)


@PROPERTY
@given(timelines())
def test_any_timeline_round_trips(timeline: SubjectTimeline):
    assert TIMELINES.decode(TIMELINES.encode(timeline)) == timeline


@PROPERTY
@given(st.lists(case_events(), max_size=6), st.sampled_from(["subject-a", "subject-b"]))
def test_any_canonical_events_observe_and_round_trip(events, subject):
    # Arbitrary valid events (any type, any time in Python's range) never break observe or the codecs.
    timeline = None
    for event in events:
        event = event.model_copy(update={"subject_key": subject, "member_state": MS.NL})
        timeline, alerts, expires_at = observe(timeline, event, DEFAULT)
        for alert in alerts:
            assert ALERTS.decode(ALERTS.encode(alert)) == alert
        if timeline is None:
            assert expires_at is None
        else:
            assert expires_at == max(f.expires_at for f in timeline.facts)
            assert TIMELINES.decode(TIMELINES.encode(timeline)) == timeline


def test_times_keep_their_instant_at_millisecond_precision():
    event = applied("a", "2026-03-05")
    event = event.model_copy(update={"occurred_at": dt.datetime(2026, 3, 5, 13, 0, 0, 123_456, tzinfo=dt.UTC)})

    timeline = observe(None, event, DEFAULT).timeline

    assert timeline.facts[0].occurred_at.microsecond == 123_000
    assert TIMELINES.decode(TIMELINES.encode(timeline)) == timeline
