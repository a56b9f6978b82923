"""Movement samples: planted secondary movements across DE, FR and NL, and the manifest that says what they are."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli.main import main
from gateway.config import GatewaySettings
from gateway.connectors.base import Connector, Fact, MappingContext
from gateway.events import models as m
from gateway.events.models import Severity
from gateway.pipeline.pseudonym import pseudonymiser
from gateway.pipeline.wiring import build_processor
from gateway.samples.movements import (
    FILE_NAMES,
    MANIFEST_NAME,
    MEMBER_STATES,
    Movement,
    movements,
    ordinary_expectations,
    reference_connectors,
    render_movements,
    write_movements,
)
from gateway.samples.stories import story

SEED, COUNT = 7, 30
CUTOFF = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SECRET = b"movement-test-secret"
LOOK_ALIKE_KINDS = {
    "refused_abroad",
    "unassisted_departure",
    "hit_outside_retention",
    "entry_after_window",
    "own_member_state_hit",
}


@pytest.fixture(scope="module")
def connectors() -> dict[str, Connector[Any]]:
    return reference_connectors()


@pytest.fixture(scope="module")
def stories() -> list[Movement]:
    return movements(SEED, COUNT)


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory, connectors: dict[str, Connector[Any]]) -> Path:
    out = tmp_path_factory.mktemp("movements")
    write_movements(out, seed=SEED, count=COUNT, connectors=connectors)
    return out


@pytest.fixture(scope="module")
def manifest(outdir: Path) -> dict[str, Any]:
    return json.loads((outdir / MANIFEST_NAME).read_text(encoding="utf-8"))


def _by_name(stories: list[Movement]) -> dict[str, Movement]:
    return {mv.name: mv for mv in stories}


# ---- determinism and shape -----------------------------------------------------------------------------------


def test_same_seed_same_bytes(tmp_path: Path, outdir: Path, connectors: dict[str, Connector[Any]]) -> None:
    write_movements(tmp_path / "again", seed=SEED, count=COUNT, connectors=connectors)
    write_movements(tmp_path / "other", seed=SEED + 1, count=COUNT, connectors=connectors)
    for name in [*FILE_NAMES.values(), MANIFEST_NAME]:
        assert (tmp_path / "again" / name).read_bytes() == (outdir / name).read_bytes(), name
        assert (tmp_path / "other" / name).read_bytes() != (outdir / name).read_bytes(), name


def test_count_is_people_and_at_least_the_planted_set(stories: list[Movement]) -> None:
    assert len(stories) == COUNT
    assert len({mv.name for mv in stories}) == COUNT
    planted = len(movements(SEED, 14))
    with pytest.raises(ValueError, match="planted"):
        movements(SEED, planted - 1)


def test_every_rule_twice_in_different_member_states_and_every_look_alike(stories: list[Movement]) -> None:
    planted = [mv for mv in stories if not mv.name.startswith("ordinary-")]
    states: dict[str, list[m.MemberState]] = defaultdict(list)
    for mv in planted:
        for alert in mv.alerts:
            states[alert.rule_id].append(alert.member_state)
    assert set(states) == {"SM-1", "SM-2", "SM-3", "SM-4"}
    for rule, where in states.items():
        assert len(where) >= 2, rule
        assert len(set(where)) >= 2, rule
    assert {look.kind for mv in planted for look in mv.look_alikes} == LOOK_ALIKE_KINDS


def test_manifest_lists_what_was_planted(manifest: dict[str, Any], stories: list[Movement]) -> None:
    assert {a["rule_id"] for a in manifest["expected_alerts"]} == {"SM-1", "SM-2", "SM-3", "SM-4"}
    assert {look["kind"] for look in manifest["look_alikes"]} >= LOOK_ALIKE_KINDS
    assert len(manifest["expected_alerts"]) == sum(len(mv.alerts) for mv in stories)
    assert len(manifest["look_alikes"]) == sum(len(mv.look_alikes) for mv in stories)
    for alert in manifest["expected_alerts"]:
        assert set(alert) >= {"rule_id", "member_state", "person_ref", "case_references", "evidence"}
        assert alert["case_references"] == sorted(alert["case_references"])
        for item in alert["evidence"]:
            assert set(item) == {"event_type", "occurred_at"}
            assert item["occurred_at"].endswith("Z")
    for look in manifest["look_alikes"]:
        assert set(look) >= {"kind", "member_state", "person_ref", "must_not_fire"}
        assert look["must_not_fire"]


def test_every_fact_lies_before_the_cutoff(stories: list[Movement]) -> None:
    for mv in stories:
        for case in mv.cases:
            assert all(f.occurred_at < CUTOFF for f in case.facts), case.case_reference


def test_planted_hits_carry_the_avrr_status(stories: list[Movement]) -> None:
    by_name = _by_name(stories)

    def statuses(name: str) -> list[m.AvrrStatus | None]:
        return [
            f.payload.avrr.status
            for case in by_name[name].cases
            for f in case.facts
            if isinstance(f.payload, m.EurodacHitReceived) and f.payload.avrr is not None
        ]

    assert statuses("sm1-de-to-nl") == [m.AvrrStatus.GRANTED]
    assert statuses("sm4-nl-to-fr-open") == [m.AvrrStatus.APPLIED]
    assert statuses("sm4-fr-to-de-granted-later") == [m.AvrrStatus.GRANTED]
    assert statuses("lookalike-refused-fr-to-nl") == [m.AvrrStatus.REFUSED]
    (hit,) = [
        f.payload for c in by_name["sm1-de-to-nl"].cases for f in c.facts if isinstance(f.payload, m.EurodacHitReceived)
    ]
    (grant,) = [
        f.payload for c in by_name["sm1-de-to-nl"].cases for f in c.facts if isinstance(f.payload, m.AssistanceGranted)
    ]
    assert hit.avrr is not None
    assert (hit.hit_member_state, hit.avrr.granting_member_state, hit.avrr.granted_on) == (
        m.MemberState.DE,
        m.MemberState.DE,
        grant.grant_date,
    )


# ---- the ground truth against an independent reading of the contract's rules -----------------------------------

_RETENTION_YEARS = {m.EurodacCategory.APPLICANT: 10}  # every other category the stories use: 5


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    last = [31, 29 if (day.year + year) % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month]
    return dt.date(day.year + year, month + 1, min(day.day, last))


def _hit_reading(hit: m.EurodacHitReceived, here: m.MemberState) -> str | None:
    avrr = hit.avrr
    if avrr is None or here in (hit.hit_member_state, avrr.granting_member_state):
        return None
    if avrr.status is m.AvrrStatus.GRANTED or (avrr.status is None and avrr.granted):
        return "grant"
    return "open" if avrr.status is m.AvrrStatus.APPLIED else None


def _expected_by_reading(facts: list[Fact], here: m.MemberState) -> dict[str, set[Fact]]:
    """The evidence of each rule for one subject, read straight from the contract (all facts seen, defaults)."""
    apps = [(f, f.payload.application_date) for f in facts if isinstance(f.payload, m.AssistanceApplied)]
    grants = [(f, f.payload.grant_date) for f in facts if isinstance(f.payload, m.AssistanceGranted)]
    departures = [
        (f, f.payload.departed_at.date())
        for f in facts
        if isinstance(f.payload, m.DepartureConfirmed) and f.payload.assisted
    ]
    entries = [(f, f.payload.entered_at.date()) for f in facts if isinstance(f.payload, m.EntryRecorded)]
    hits = [(f, f.payload) for f in facts if isinstance(f.payload, m.EurodacHitReceived)]
    out: dict[str, set[Fact]] = defaultdict(set)
    for hf, hit in hits:
        reading = _hit_reading(hit, here)
        granted_on = hit.avrr.granted_on if hit.avrr is not None else None
        base = granted_on or hf.occurred_at.date()
        expires = _add_months(base, 12 * _RETENTION_YEARS.get(hit.category, 5))
        for af, t in [*apps, *grants]:
            if reading == "grant" and granted_on is not None and granted_on < t and t <= expires:
                out["SM-1"] |= {hf, af}
        for af, t in apps:
            open_near = reading == "open" and abs((hf.occurred_at.date() - t).days) <= 180
            granted_since = reading == "grant" and granted_on is not None and granted_on >= t
            if open_near or granted_since:
                out["SM-4"] |= {hf, af}
    for df, left in departures:
        for af, t in apps:
            if left < t and (t - left).days <= 1826:
                out["SM-2"] |= {df, af}
        for ef, back in entries:
            if left < back <= _add_months(left, 12):
                out["SM-3"] |= {df, ef}
    return out


@pytest.mark.parametrize("seed", [SEED, 1, 2, 3, 11])
def test_expected_alerts_are_exactly_what_the_rules_say(seed: int) -> None:
    stories = movements(seed, 40)
    subjects: dict[tuple[m.MemberState, str], list[Fact]] = defaultdict(list)
    for mv in stories:
        for case in mv.cases:
            subjects[case.member_state, case.person_ref].extend(case.facts)
    planted = {(a.member_state, a.person_ref, a.rule_id): set(a.evidence) for mv in stories for a in mv.alerts}
    read = {
        (ms, ref, rule): evidence
        for (ms, ref), facts in subjects.items()
        for rule, evidence in _expected_by_reading(facts, ms).items()
    }
    assert read == planted
    for mv in stories:
        for look in mv.look_alikes:
            for rule in look.must_not_fire:
                assert (look.member_state, look.person_ref, rule) not in planted, look


def test_manifest_evidence_is_the_stories_facts(manifest: dict[str, Any], stories: list[Movement]) -> None:
    facts: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for mv in stories:
        for case in mv.cases:
            facts[str(case.member_state), case.person_ref].extend(case.facts)
    for alert in manifest["expected_alerts"]:
        own = facts[alert["member_state"], alert["person_ref"]]
        listed = {(e["event_type"], dt.datetime.fromisoformat(e["occurred_at"])) for e in alert["evidence"]}
        cited = [f for f in own if (str(m.EVENT_TYPE_OF[type(f.payload)]), f.occurred_at) in listed]
        assert len(cited) == len(alert["evidence"]) == len(listed), alert
        assert sorted({f.case_reference for f in cited}) == alert["case_references"]


def test_subject_sm1_evidence_is_the_hit_and_the_application(manifest: dict[str, Any]) -> None:
    (alert,) = [a for a in manifest["expected_alerts"] if a.get("story") == "sm1-de-to-nl"]
    assert (alert["rule_id"], alert["member_state"]) == ("SM-1", "NL")
    assert sorted(e["event_type"] for e in alert["evidence"]) == ["ASSISTANCE_APPLIED", "EURODAC_HIT_RECEIVED"]


# ---- ordinary stories ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ms", [m.MemberState.DE, m.MemberState.FR, m.MemberState.NL])
def test_ordinary_story_kinds_imply_their_alerts(ms: m.MemberState) -> None:
    for index in range(8):
        case = story(index, SEED, ms)
        alerts, looks = ordinary_expectations(case, index)
        kind = index % 4
        assert [a.rule_id for a in alerts] == (["SM-1"] if kind == 1 else [])
        assert [lk.kind for lk in looks] == (["unassisted_departure"] if kind == 3 else [])
        if kind == 1:
            types = sorted(type(f.payload).__name__ for f in alerts[0].evidence)
            assert types == ["AssistanceApplied", "EurodacHitReceived"]
            assert alerts[0].case_references == (case.case_reference,)


def test_ordinary_expectations_refuse_a_story_of_another_shape() -> None:
    with pytest.raises(ValueError, match="kind-1"):
        ordinary_expectations(story(0, SEED, m.MemberState.NL), 1)


# ---- rendered exports through the pipeline -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MEMBER_STATES))
def test_every_record_translates_and_validates(
    name: str, outdir: Path, manifest: dict[str, Any], connectors: dict[str, Connector[Any]]
) -> None:
    connector = connectors[name]
    settings = GatewaySettings()
    processor = build_processor(connector, settings, correlation_id="movements-test")
    path = outdir / FILE_NAMES[name]
    with path.open("rb") as stream:
        outcomes = list(processor.process_stream(connector.read(stream, str(path))))
    dead = [o.dead_letter for o in outcomes if o.dead_letter is not None]
    assert not dead, dead[:3]
    assert not [f for o in outcomes for f in o.findings if f.severity == Severity.ERROR]
    info = manifest["connectors"][name]
    assert len(outcomes) == info["records"]
    assert sum(len(o.events) for o in outcomes) == info["events"] == info["records"]


def _translated(
    stories: list[Movement], connectors: dict[str, Connector[Any]], outdir: Path, name: str
) -> list[tuple[Fact, m.CaseEvent]]:
    """Each planted fact beside the event its rendered record was read and translated to."""
    connector = connectors[name]
    ms = connector.config.member_state
    ctx = MappingContext(
        connector.name, connector.version, ms, "t", dt.datetime(2026, 12, 1, tzinfo=dt.UTC), pseudonymiser(SECRET, ms)
    )
    records = render_movements(stories, connectors, SEED)[name]
    path = outdir / FILE_NAMES[name]
    with path.open("rb") as stream:
        raws = list(connector.read(stream, str(path)))
    out: list[tuple[Fact, m.CaseEvent]] = []
    for record, raw in zip(records, raws, strict=True):
        out.extend(zip(record.facts, connector.translate(raw, ctx), strict=True))
    return out


def _without_status(payload: m.Payload) -> m.Payload:
    if isinstance(payload, m.EurodacHitReceived) and payload.avrr is not None:
        return payload.model_copy(update={"avrr": payload.avrr.model_copy(update={"status": None})})
    return payload


@pytest.mark.parametrize("name", sorted(MEMBER_STATES))
def test_rendered_records_read_back_as_the_planted_facts(
    name: str, stories: list[Movement], connectors: dict[str, Connector[Any]], outdir: Path
) -> None:
    pairs = _translated(stories, connectors, outdir, name)
    assert pairs
    for fact, event in pairs:
        assert (event.case_reference, event.occurred_at) == (fact.case_reference, fact.occurred_at)
        assert event.subject_key == pseudonymiser(SECRET, str(MEMBER_STATES[name]))(fact.person_ref)
        # The AVRR status is compared on its own below: the connectors are being taught to carry it.
        assert _without_status(event.payload) == _without_status(fact.payload)


@pytest.mark.parametrize("name", sorted(MEMBER_STATES))
def test_avrr_status_survives_the_round_trip(
    name: str, stories: list[Movement], connectors: dict[str, Connector[Any]], outdir: Path
) -> None:
    hits = [
        (fact.payload, event.payload)
        for fact, event in _translated(stories, connectors, outdir, name)
        if isinstance(fact.payload, m.EurodacHitReceived) and fact.payload.avrr is not None
    ]
    assert any(p.avrr is not None and p.avrr.status is not None for p, _ in hits)
    for planted, read in hits:
        assert isinstance(read, m.EurodacHitReceived)
        assert read.avrr is not None
        assert planted.avrr is not None
        assert read.avrr.status == planted.avrr.status


# ---- subject keys --------------------------------------------------------------------------------------------


def _keys(stories: list[Movement], connectors: dict[str, Connector[Any]], outdir: Path) -> dict[str, set[str]]:
    """Case reference -> subject keys of its translated events."""
    out: dict[str, set[str]] = defaultdict(set)
    for name in MEMBER_STATES:
        for _, event in _translated(stories, connectors, outdir, name):
            out[event.case_reference].add(event.subject_key)
    return out


def test_subject_keys_per_member_state(
    stories: list[Movement], connectors: dict[str, Connector[Any]], outdir: Path
) -> None:
    keys = _keys(stories, connectors, outdir)
    by_name = _by_name(stories)
    # The same person in two Member States: two national refs, two subject keys.
    de, nl = by_name["sm1-de-to-nl"].cases
    assert (de.member_state, nl.member_state) == (m.MemberState.DE, m.MemberState.NL)
    assert de.person_ref != nl.person_ref
    assert keys[de.case_reference] == {pseudonymiser(SECRET, "DE")(de.person_ref)}
    assert keys[nl.case_reference] == {pseudonymiser(SECRET, "NL")(nl.person_ref)}
    assert keys[de.case_reference] != keys[nl.case_reference]
    # Even one ref would give two keys: the Member State is part of what is hashed.
    assert pseudonymiser(SECRET, "DE")(de.person_ref) != pseudonymiser(SECRET, "NL")(de.person_ref)
    # One person's two cases in one Member State: one ref, one subject key.
    for story_name in ("sm2-de", "sm2-fr-refused", "sm3-de-new-case", "lookalike-unassisted-fr"):
        first, second = by_name[story_name].cases
        assert first.member_state == second.member_state
        assert first.case_reference != second.case_reference
        assert len(keys[first.case_reference]) == 1
        assert keys[first.case_reference] == keys[second.case_reference]
    # Planted people never share a ref with anyone else in the same Member State.
    owners: dict[tuple[m.MemberState, str], set[str]] = defaultdict(set)
    for mv in stories:
        for case in mv.cases:
            owners[case.member_state, case.person_ref].add(mv.name)
    assert all(len(names) == 1 for names in owners.values())


# ---- command line --------------------------------------------------------------------------------------------


def test_cli_writes_the_exports_and_the_manifest(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["samples-movements", str(tmp_path / "out"), "--seed", "3", "-n", "15"])
    assert result.exit_code == 0, result.output
    for name in [*FILE_NAMES.values(), MANIFEST_NAME]:
        assert (tmp_path / "out" / name).stat().st_size > 0
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert (manifest["seed"], manifest["count"]) == (3, 15)


def test_cli_refuses_a_count_below_the_planted_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["samples-movements", str(tmp_path / "out"), "-n", "3"])
    assert result.exit_code != 0
    assert "planted" in result.output
