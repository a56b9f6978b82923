"""Alerts: ``SecondaryMovementSuspected`` records, their deterministic ids and their Avro form.

An alert is a signal for a caseworker, never a decision about a person. It carries no identity data: the
pseudonymous subject key, case references, event ids and times, roles and Member State codes only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.codec.schemas import SCHEMA_DIR
from gateway.detect.timeline import EVENT_TYPE_OF_KIND, ROLE_OF_KIND, Fact
from gateway.state.codec import AvroValueCodec

ALERT_SCHEMA_DIR: Path = SCHEMA_DIR / "alerts"
ALERT_ROOT = "eu.returns.gateway.alerts.v1.SecondaryMovementSuspected"

ALERT_NAMESPACE = uuid.UUID("9d9fc5c6-ddfb-59d0-b269-8536dd66b768")
"""The uuid5 namespace of alert ids: ``uuid5(NAMESPACE_URL, "urn:eu.returns.gateway:alerts:v1")``. Never change it:
alert ids, and so ``supersedes`` links and downstream de-duplication, depend on it."""

NOTICE = "A signal for a caseworker to look at; never a decision about a person."


@dataclass(frozen=True, slots=True)
class Evidence:
    """One event taking part in a match.

    Attributes:
        event_id: The canonical event's id.
        event_type: Its event type (``ASSISTANCE_APPLIED``, ...).
        role: What it is in the match: application, grant, refusal, assisted_departure, unassisted_departure,
            entry or eurodac_hit.
        occurred_at: The event's ``occurred_at``.
        case_reference: The Member State's case reference on the event.
        hit_member_state: For a Eurodac hit, the Member State of origin of the matched dataset; else None.
    """

    event_id: str
    event_type: str
    role: str
    occurred_at: dt.datetime
    case_reference: str
    hit_member_state: str | None = None


@dataclass(frozen=True, slots=True)
class SecondaryMovementSuspected:
    """An alert: a rule matched for a subject on a set of evidence.

    Attributes:
        alert_id: uuid5 of subject key, rule id and sorted evidence event ids (see :func:`alert_id`).
        rule_id: ``SM-1`` ... ``SM-4``.
        title: The rule's title.
        legal_basis: The rule's legal basis from configuration.
        subject_key: The pseudonymous subject key.
        member_state: The Member State whose events these are.
        case_references: The evidence's case references, sorted, without repeats.
        evidence: Every event taking part in any match, by time then event id.
        event_time: The latest evidence ``occurred_at``.
        detected_at: When it was detected; informational, and ignored by ``==``.
        parameters: The windows the rule used, sorted by name.
        supersedes: The previous alert id of this subject and rule, if any.
        notice: What an alert is and is not.
    """

    alert_id: str
    rule_id: str
    title: str
    legal_basis: str
    subject_key: str
    member_state: str
    case_references: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    event_time: dt.datetime
    detected_at: dt.datetime = field(compare=False)
    parameters: tuple[tuple[str, str], ...] = ()
    supersedes: str | None = None
    notice: str = NOTICE

    @property
    def evidence_ids(self) -> tuple[str, ...]:
        """The evidence's event ids, sorted."""
        return tuple(sorted(e.event_id for e in self.evidence))


def alert_id(subject_key: str, rule_id: str, evidence_ids: Iterable[str]) -> str:
    """``uuid5(ALERT_NAMESPACE, "<subject_key>|<rule_id>|<sorted evidence ids joined by ','>")`` as text."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{subject_key}|{rule_id}|{','.join(sorted(evidence_ids))}"))


def evidence_of(fact: Fact) -> Evidence:
    """A fact as alert evidence."""
    hit = fact.hit
    kind = fact.kind
    return Evidence(
        fact.event_id,
        EVENT_TYPE_OF_KIND[kind].value,
        ROLE_OF_KIND[kind],
        fact.occurred_at,
        fact.case_reference,
        None if hit is None else str(hit.hit_member_state),
    )


def build_alert(
    *,
    rule_id: str,
    title: str,
    legal_basis: str,
    subject_key: str,
    member_state: str,
    facts: Sequence[Fact],
    parameters: Mapping[str, str],
    supersedes: str | None,
    detected_at: dt.datetime,
) -> SecondaryMovementSuspected:
    """The alert of a rule on a non-empty evidence set."""
    evidence = tuple(evidence_of(f) for f in sorted(facts, key=lambda f: (f.occurred_at, f.event_id)))
    return SecondaryMovementSuspected(
        alert_id=alert_id(subject_key, rule_id, (e.event_id for e in evidence)),
        rule_id=rule_id,
        title=title,
        legal_basis=legal_basis,
        subject_key=subject_key,
        member_state=str(member_state),
        case_references=tuple(sorted({e.case_reference for e in evidence})),
        evidence=evidence,
        event_time=max(e.occurred_at for e in evidence),
        detected_at=detected_at,
        parameters=tuple(sorted(parameters.items())),
        supersedes=supersedes,
    )


def alert_to_avro(alert: SecondaryMovementSuspected) -> dict[str, Any]:
    """The alert as an Avro record of ``eu.returns.gateway.alerts.v1.SecondaryMovementSuspected``."""
    return {
        "alert_id": alert.alert_id,
        "rule_id": alert.rule_id,
        "title": alert.title,
        "legal_basis": alert.legal_basis,
        "subject_key": alert.subject_key,
        "member_state": alert.member_state,
        "case_references": list(alert.case_references),
        "evidence": [
            {
                "event_id": e.event_id,
                "event_type": e.event_type,
                "role": e.role,
                "occurred_at": e.occurred_at,
                "case_reference": e.case_reference,
                "hit_member_state": e.hit_member_state,
            }
            for e in alert.evidence
        ],
        "event_time": alert.event_time,
        "detected_at": alert.detected_at,
        "parameters": dict(alert.parameters),
        "supersedes": alert.supersedes,
        "notice": alert.notice,
    }


def alert_from_avro(record: Mapping[str, Any]) -> SecondaryMovementSuspected:
    """An alert from an Avro record read with the current schema."""
    supersedes = record["supersedes"]
    return SecondaryMovementSuspected(
        alert_id=str(record["alert_id"]),
        rule_id=record["rule_id"],
        title=record["title"],
        legal_basis=record["legal_basis"],
        subject_key=record["subject_key"],
        member_state=record["member_state"],
        case_references=tuple(record["case_references"]),
        evidence=tuple(
            Evidence(
                str(e["event_id"]),
                e["event_type"],
                e["role"],
                e["occurred_at"],
                e["case_reference"],
                e["hit_member_state"],
            )
            for e in record["evidence"]
        ),
        event_time=record["event_time"],
        detected_at=record["detected_at"],
        parameters=tuple(sorted(record["parameters"].items())),
        supersedes=None if supersedes is None else str(supersedes),
        notice=record["notice"],
    )


def alert_codec(
    schema_dir: Path = ALERT_SCHEMA_DIR, history: Iterable[dict[str, Any]] = ()
) -> AvroValueCodec[SecondaryMovementSuspected]:
    """Single-object Avro codec of alerts over ``schemas/avro/alerts/``.

    Args:
        schema_dir: Folder of the alert schema.
        history: Released versions of the schema, so that alerts they wrote stay readable.
    """
    return AvroValueCodec(schema_dir, ALERT_ROOT, alert_to_avro, alert_from_avro, history)
