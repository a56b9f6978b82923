"""Multi-Member-State movement samples: three national exports with planted secondary movements, and their truth.

The three reference connectors act as three Member States (``de-csv`` = DE, ``fr-jsonl`` = FR, ``nl-xml`` = NL).
A movement story is one person's path across them; each Member State's part is an ordinary ``CaseStory`` with
that Member State's own case reference and national person ref, rendered by that Member State's connector. The
planted stories (``movement_stories.PLANTED``) raise every rule SM-1..SM-4 at least twice, in different Member
States, and plant every look-alike; when more people are asked for, ordinary ``stories.story`` cases fill up the
exports, round robin over the three Member States, and their alerts are listed too (``ordinary_expectations``).

``write_movements`` writes ``de-csv.csv``, ``fr-jsonl.jsonl``, ``nl-xml.xml`` and ``movements.manifest.json``.
The manifest's ``expected_alerts`` are written down from what was planted, never computed by a detector: under the
detector's default configuration they are the complete list, so an alert for any other subject and rule is a false
positive. Each alert is listed once, with the evidence of the last alert the detector emits for that subject and
rule (every fact taking part in any match once all events are seen; nothing planted expires before then).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.connectors import discovery
from gateway.connectors.base import Connector, Fact, SampleRecord
from gateway.events import models as m
from gateway.samples.movement_stories import (
    SM1,
    SM2,
    SM3,
    SM4,
    ExpectedAlert,
    LookAlike,
    Movement,
    planted,
)
from gateway.samples.stories import CaseStory, story

__all__ = [
    "DEFAULT_COUNT",
    "FILE_NAMES",
    "MANIFEST_NAME",
    "MEMBER_STATES",
    "ExpectedAlert",
    "LookAlike",
    "Movement",
    "MovementManifest",
    "movements",
    "ordinary_expectations",
    "reference_connectors",
    "render_movements",
    "write_movements",
]

MEMBER_STATES: dict[str, m.MemberState] = {
    "de-csv": m.MemberState.DE,
    "fr-jsonl": m.MemberState.FR,
    "nl-xml": m.MemberState.NL,
}
"""Connector name -> the Member State it acts as."""
FILE_NAMES: dict[str, str] = {"de-csv": "de-csv.csv", "fr-jsonl": "fr-jsonl.jsonl", "nl-xml": "nl-xml.xml"}
MANIFEST_NAME = "movements.manifest.json"
DEFAULT_COUNT = 30

# What the expectations assume: the detector's defaults (docs/detector.md).
_ASSUMED: dict[str, Any] = {
    "sm2_window_days": 1826,
    "sm3_window_months": 12,
    "sm4_window_days": 180,
    "national_retention_days": 1826,
    "eurodac_retention_years": {"APPLICANT": 10, "ILLEGAL_STAY": 5, "IRREGULAR_CROSSING": 5},
    "ungranted_without_status": "ignore",
}


def ordinary_expectations(case: CaseStory, index: int) -> tuple[tuple[ExpectedAlert, ...], tuple[LookAlike, ...]]:
    """What the detector must make of the ordinary story ``stories.story(index, seed, member_state)``.

    ``stories.story`` builds kind ``index % 4``, and the kinds imply:

    - 0, assisted voluntary return (application, grant, assisted departure, nothing after it): no alert;
    - 1, an application and, the same day, a Eurodac hit (APPLICANT, 10 years) showing AVRR granted by BE (DE for
      a BE story) 60-400 days before, then a refusal: SM-1, evidence the application and the hit;
    - 2, enforced return without assistance: no alert;
    - 3, voluntary departure without assistance and an EES entry 30-200 days later: a look-alike of SM-3.

    The facts are checked against that shape, so a change to ``stories.py`` fails here rather than yield a wrong
    manifest.

    Args:
        case: The story, as ``stories.story`` returned it.
        index: The index it was built with.

    Raises:
        ValueError: The story does not have the shape its kind promises.
    """
    kind = index % 4
    by_type: dict[type[Any], list[Fact]] = {}
    for fact in case.facts:
        by_type.setdefault(type(fact.payload), []).append(fact)
    name = f"ordinary-{case.member_state.lower()}-{index}"
    if kind == 1:
        applications, hits = by_type.get(m.AssistanceApplied, []), by_type.get(m.EurodacHitReceived, [])
        if len(applications) != 1 or len(hits) != 1:
            raise ValueError(f"{name}: a kind-1 story needs one application and one hit")
        applied, hit = applications[0].payload, hits[0].payload
        assert isinstance(applied, m.AssistanceApplied)
        assert isinstance(hit, m.EurodacHitReceived)
        avrr = hit.avrr
        if (
            avrr is None
            or not avrr.granted
            or avrr.status not in (None, m.AvrrStatus.GRANTED)
            or avrr.granting_member_state == case.member_state
            or hit.hit_member_state == case.member_state
            or avrr.granted_on is None
            or not 0 < (applied.application_date - avrr.granted_on).days < 3650
        ):
            raise ValueError(f"{name}: the kind-1 hit does not show a grant elsewhere before the application")
        evidence = tuple(sorted((applications[0], hits[0]), key=lambda f: (f.occurred_at, str(type(f.payload)))))
        return (ExpectedAlert(SM1, case.member_state, case.person_ref, evidence, name),), ()
    if kind == 3:
        departures = by_type.get(m.DepartureConfirmed, [])
        if len(departures) != 1 or not isinstance(departures[0].payload, m.DepartureConfirmed):
            raise ValueError(f"{name}: a kind-3 story needs one departure")
        if departures[0].payload.assisted or len(by_type.get(m.EntryRecorded, [])) != 1:
            raise ValueError(f"{name}: a kind-3 story needs an unassisted departure and an entry")
        refs = (case.case_reference,)
        return (), (LookAlike("unassisted_departure", case.member_state, case.person_ref, (SM3,), refs, name),)
    return (), ()


def movements(seed: int, count: int = DEFAULT_COUNT) -> list[Movement]:
    """The planted stories, then ordinary ones up to ``count`` people, in a seeded order.

    Args:
        seed: Same seed, same stories.
        count: Number of people (movement stories); at least the planted set.

    Raises:
        ValueError: ``count`` is smaller than the planted set.
    """
    used: set[tuple[m.MemberState, str]] = set()
    out = planted(seed, used)
    if count < len(out):
        raise ValueError(f"count {count} is below the {len(out)} planted movement stories")
    states = tuple(MEMBER_STATES.values())
    indexes = dict.fromkeys(states, 0)
    for j in range(count - len(out)):
        ms = states[j % len(states)]
        while True:
            index = indexes[ms]
            indexes[ms] += 1
            case = story(index, seed, ms)
            # Ordinary refs are random: one that a planted person already has would merge two subjects.
            if (ms, case.person_ref) not in used:
                break
        used.add((ms, case.person_ref))
        alerts, looks = ordinary_expectations(case, index)
        out.append(Movement(f"ordinary-{ms.lower()}-{index}", (case,), alerts, looks))
    random.Random(f"{seed}:movement-order").shuffle(out)  # noqa: S311 - reproducible sample data
    return out


def reference_connectors(configs: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Connector[Any]]:
    """The three reference connectors, each configured as its Member State.

    Args:
        configs: Connector name -> configuration (the gateway settings' ``connectors`` table); ``member_state``
            may be left out, and must otherwise be the connector's movement Member State.

    Raises:
        ConfigError: A connector is not installed or fails to import.
        ValueError: A configuration is invalid or names another Member State.
    """
    out: dict[str, Connector[Any]] = {}
    for name, ms in MEMBER_STATES.items():
        raw = dict((configs or {}).get(name, {}))
        configured = raw.setdefault("member_state", str(ms))
        if configured != ms:
            raise ValueError(f"{name} acts as {ms} in movement samples, but its configuration says {configured}")
        cls = discovery.load(name)
        out[name] = cls(cls.config_model.model_validate(raw))
    return out


def render_movements(
    stories_: Sequence[Movement], connectors: Mapping[str, Connector[Any]], seed: int
) -> dict[str, list[SampleRecord]]:
    """Each connector's records: its Member State's cases of every story, a story's cases in order.

    Args:
        stories_: The movement stories, in export order.
        connectors: Connector name -> connector, for every name of ``MEMBER_STATES``.
        seed: Seed of the connectors' spelling choices.
    """
    out: dict[str, list[SampleRecord]] = {}
    for name, ms in MEMBER_STATES.items():
        connector = connectors[name]
        if connector.config.member_state != ms:
            raise ValueError(f"{name} must be configured as {ms}, not {connector.config.member_state}")
        rng = random.Random(f"{seed}:render:{name}")  # noqa: S311 - reproducible sample data
        out[name] = [
            r for mv in stories_ for case in mv.cases if case.member_state == ms for r in connector.render(case, rng)
        ]
    return out


@dataclass(slots=True)
class MovementManifest:
    """What the movement exports contain and what a detector must make of them.

    Attributes:
        seed: Seed they were generated with.
        count: Number of people (movement stories).
        connectors: Connector name -> file, Member State, records, events and events by type.
        expected_alerts: Every alert a detector with default configuration must raise.
        look_alikes: Planted situations and the rules they must not trigger.
        stories: Story name -> its cases as ``MS/case reference``.
    """

    seed: int
    count: int
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    expected_alerts: list[dict[str, Any]] = field(default_factory=list)
    look_alikes: list[dict[str, Any]] = field(default_factory=list)
    stories: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as a JSON-ready mapping."""
        return {
            "seed": self.seed,
            "count": self.count,
            "assumes": {**_ASSUMED, "rules": [SM1, SM2, SM3, SM4]},
            "member_states": {n: str(ms) for n, ms in MEMBER_STATES.items()},
            "connectors": self.connectors,
            "expected_alerts": self.expected_alerts,
            "look_alikes": self.look_alikes,
            "stories": self.stories,
        }

    def to_json(self) -> str:
        """The manifest as JSON, keys sorted, so the same stories always give the same bytes."""
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def alert_entry(alert: ExpectedAlert) -> dict[str, Any]:
    """An expected alert as the manifest lists it (``occurred_at`` of the evidence's events, ISO-8601 UTC)."""
    return {
        "rule_id": alert.rule_id,
        "member_state": str(alert.member_state),
        "person_ref": alert.person_ref,
        "case_references": list(alert.case_references),
        "evidence": [
            {
                "event_type": str(m.EVENT_TYPE_OF[type(f.payload)]),
                "occurred_at": f.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            }
            for f in alert.evidence
        ],
        "story": alert.story,
    }


def look_alike_entry(look: LookAlike) -> dict[str, Any]:
    """A look-alike as the manifest lists it."""
    return {
        "kind": look.kind,
        "member_state": str(look.member_state),
        "person_ref": look.person_ref,
        "must_not_fire": list(look.must_not_fire),
        "case_references": list(look.case_references),
        "story": look.story,
    }


def manifest_of(
    stories_: Sequence[Movement], records: Mapping[str, Sequence[SampleRecord]], *, seed: int, count: int
) -> MovementManifest:
    """The manifest of rendered movement stories."""
    manifest = MovementManifest(seed=seed, count=count)
    for name, recs in records.items():
        types = Counter(str(m.EVENT_TYPE_OF[type(f.payload)]) for r in recs for f in r.facts)
        manifest.connectors[name] = {
            "file": FILE_NAMES[name],
            "member_state": str(MEMBER_STATES[name]),
            "records": len(recs),
            "events": sum(len(r.facts) for r in recs),
            "event_types": dict(sorted(types.items())),
        }
    alerts = [alert_entry(a) for mv in stories_ for a in mv.alerts]
    looks = [look_alike_entry(a) for mv in stories_ for a in mv.look_alikes]
    manifest.expected_alerts = sorted(alerts, key=lambda a: (a["member_state"], a["person_ref"], a["rule_id"]))
    manifest.look_alikes = sorted(looks, key=lambda a: (a["member_state"], a["person_ref"], a["kind"]))
    manifest.stories = {mv.name: [f"{c.member_state}/{c.case_reference}" for c in mv.cases] for mv in stories_}
    return manifest


def write_movements(
    outdir: Path, *, seed: int, count: int = DEFAULT_COUNT, connectors: Mapping[str, Connector[Any]] | None = None
) -> MovementManifest:
    """Write the three exports and ``movements.manifest.json`` to ``outdir``; return the manifest.

    Args:
        outdir: Directory to write to (created if missing).
        seed: Same seed and count, same bytes.
        count: Number of people; at least the planted set.
        connectors: The reference connectors (``reference_connectors()`` when None).
    """
    connectors = reference_connectors() if connectors is None else connectors
    stories_ = movements(seed, count)
    records = render_movements(stories_, connectors, seed)
    outdir.mkdir(parents=True, exist_ok=True)
    for name, recs in records.items():
        with (outdir / FILE_NAMES[name]).open("wb") as out:
            connectors[name].write_export(out, (r.data for r in recs))
    manifest = manifest_of(stories_, records, seed=seed, count=count)
    (outdir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest
