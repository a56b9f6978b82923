"""The detector's per-subject value as Avro (``eu.returns.gateway.state.v1.SubjectTimeline``).

Member State codes, categories and AVRR statuses are strings in the state schema, so a symbol added to the
canonical schema later can be stored before this schema learns it; reading maps a symbol this version does not know
to the canonical ``UNKNOWN``. A fact of a kind this version does not know is dropped on reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.codec.schemas import SCHEMA_DIR
from gateway.detect.timeline import AvrrElement, EmittedAlert, Fact, FactKind, HitDetails, SubjectTimeline
from gateway.events.models import AvrrStatus, EurodacCategory
from gateway.state.codec import AvroValueCodec

STATE_SCHEMA_DIR: Path = SCHEMA_DIR / "state"
TIMELINE_ROOT = "eu.returns.gateway.state.v1.SubjectTimeline"

_KINDS = {k.value: k for k in FactKind}
_CATEGORIES = {c.value: c for c in EurodacCategory}
_STATUSES = {s.value: s for s in AvrrStatus}


def _avrr_to_avro(avrr: AvrrElement | None) -> dict[str, Any] | None:
    if avrr is None:
        return None
    return {
        "granted": avrr.granted,
        "member_state": str(avrr.member_state),
        "granted_on": avrr.granted_on,
        "status": None if avrr.status is None else str(avrr.status),
    }


def _hit_to_avro(hit: HitDetails | None) -> dict[str, Any] | None:
    if hit is None:
        return None
    return {
        "hit_member_state": str(hit.hit_member_state),
        "category": str(hit.category),
        "article": hit.article,
        "avrr": _avrr_to_avro(hit.avrr),
    }


def _fact_to_avro(fact: Fact) -> dict[str, Any]:
    return {
        "kind": fact.kind.value,
        "event_id": fact.event_id,
        "occurred_at": fact.occurred_at,
        "at": fact.at,
        "case_reference": fact.case_reference,
        "expires_at": fact.expires_at,
        "hit": _hit_to_avro(fact.hit),
    }


def timeline_to_avro(timeline: SubjectTimeline) -> dict[str, Any]:
    """The timeline as an Avro record of ``eu.returns.gateway.state.v1.SubjectTimeline``."""
    return {
        "subject_key": timeline.subject_key,
        "member_state": str(timeline.member_state),
        "facts": [_fact_to_avro(f) for f in timeline.facts],
        "emitted": [
            {"rule_id": e.rule_id, "alert_id": e.alert_id, "evidence_ids": list(e.evidence_ids)}
            for e in timeline.emitted
        ],
    }


def _avrr_from_avro(record: Mapping[str, Any] | None) -> AvrrElement | None:
    if record is None:
        return None
    status = record["status"]
    return AvrrElement(
        record["granted"],
        record["member_state"],
        record["granted_on"],
        None if status is None else _STATUSES.get(status, AvrrStatus.UNKNOWN),
    )


def _hit_from_avro(record: Mapping[str, Any] | None) -> HitDetails | None:
    if record is None:
        return None
    return HitDetails(
        record["hit_member_state"],
        _CATEGORIES.get(record["category"], EurodacCategory.UNKNOWN),
        record["article"],
        _avrr_from_avro(record["avrr"]),
    )


def timeline_from_avro(record: Mapping[str, Any]) -> SubjectTimeline:
    """A timeline from an Avro record read with the current schema."""
    facts = tuple(
        Fact(
            _KINDS[f["kind"]],
            f["event_id"],
            f["occurred_at"],
            f["at"],
            f["case_reference"],
            f["expires_at"],
            _hit_from_avro(f["hit"]),
        )
        for f in record["facts"]
        if f["kind"] in _KINDS
    )
    emitted = tuple(EmittedAlert(e["rule_id"], e["alert_id"], tuple(e["evidence_ids"])) for e in record["emitted"])
    return SubjectTimeline(record["subject_key"], record["member_state"], facts, emitted)


def timeline_codec(
    schema_dir: Path = STATE_SCHEMA_DIR, history: Iterable[dict[str, Any]] = ()
) -> AvroValueCodec[SubjectTimeline]:
    """Single-object Avro codec of subject timelines over ``schemas/avro/state/``.

    Args:
        schema_dir: Folder of the state schema.
        history: Released versions of the schema, so that values they wrote stay readable.
    """
    return AvroValueCodec(schema_dir, TIMELINE_ROOT, timeline_to_avro, timeline_from_avro, history)
