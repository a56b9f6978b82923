"""Referral ids to subject keys: the compacted index the outbound stage publishes and the status pull reads.

RIAT reports on a case by its referral id; the gateway knows a person by subject key. The outbound stage, which
sees the referrals, publishes each (referral id, subject key) pair it sends to RIAT on a compacted topic,
``gateway.riat.referrals.v1``: key ``"<referral id>:<subject key>"``, value a small JSON object with the subject
key, the referring Member State and the national case reference, so that a status from RIAT becomes an event of the
right case. A tombstone removes a pair (erasure). Subject keys never hold a colon, so the key splits at its last one
and a referral id may hold colons.

`ReferralIndex` reads that topic into memory (a `gateway.kafka.pair_index.PairIndex`); it never writes or commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.adapters.riat.lifecycle import RiatStep
from gateway.adapters.riat.messages import CaseCreation
from gateway.kafka.pair_index import PairIndex
from gateway.kafka.producer import OutboundMessage
from gateway.kafka.settings import KafkaSettings
from gateway.kafka.topics import TopicSpec

__all__ = [
    "REFERRAL_INDEX_TOPIC",
    "ReferralEntry",
    "ReferralIndex",
    "index_for",
    "index_record",
    "index_tombstone",
    "index_topic_spec",
    "parse_entry",
]

REFERRAL_INDEX_TOPIC = "gateway.riat.referrals.v1"


@dataclass(frozen=True, slots=True, order=True)
class ReferralEntry:
    """One subject a referral id belongs to.

    Attributes:
        subject_key: The subject.
        member_state: The referring Member State (``MemberState`` symbol); empty if the record did not say.
        case_reference: The national case reference; empty if the record did not say.
    """

    subject_key: str
    member_state: str = ""
    case_reference: str = ""


def index_record(
    topic: str, referral_id: str, subject_key: str, member_state: str, case_reference: str
) -> OutboundMessage:
    """The index message that records one referral (produce it in the transaction of the case's creation).

    Args:
        topic: The index topic (``REFERRAL_INDEX_TOPIC`` unless configured otherwise).
        referral_id: The referral (RIAT case) id.
        subject_key: The subject referred.
        member_state: The referring Member State (the event's ``member_state``).
        case_reference: The event's national case reference.
    """
    value = {"subject_key": subject_key, "member_state": member_state, "case_reference": case_reference}
    return OutboundMessage(topic, _key(referral_id, subject_key), json.dumps(value, sort_keys=True).encode())


def index_for(step: RiatStep, subject_key: str, topic: str = REFERRAL_INDEX_TOPIC) -> list[OutboundMessage]:
    """The index messages one step owes: one per case it creates (a referral is indexed once, when it is sent).

    Args:
        step: What `riat_step` returned for one event of the subject.
        subject_key: The subject (the event's ``subject_key``).
        topic: The index topic.
    """
    cases = {(r.member_state, r.referral_id): r.case_reference for r in step.state.referrals} if step.state else {}
    return [
        index_record(topic, m.referral_id, subject_key, m.member_state, cases.get((m.member_state, m.referral_id), ""))
        for m in step.messages
        if isinstance(m, CaseCreation)
    ]


def index_tombstone(topic: str, referral_id: str, subject_key: str) -> OutboundMessage:
    """The message that removes one referral pair from the index (erasure)."""
    return OutboundMessage(topic, _key(referral_id, subject_key), None)


def index_topic_spec(name: str, partitions: int, replication_factor: int) -> TopicSpec:
    """The index topic: compacted, so it keeps the latest state of every pair forever."""
    return TopicSpec(name=name, partitions=partitions, replication_factor=replication_factor, cleanup_policy="compact")


def parse_entry(subject_key: str, value: bytes) -> ReferralEntry:
    """Read an index value; a bare subject key, or JSON that is not ours, still names the subject of the pair key."""
    try:
        data = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return ReferralEntry(subject_key)
    if not isinstance(data, dict):
        return ReferralEntry(subject_key)
    ms, case = data.get("member_state"), data.get("case_reference")
    return ReferralEntry(subject_key, ms if isinstance(ms, str) else "", case if isinstance(case, str) else "")


def _key(referral_id: str, subject_key: str) -> bytes:
    if ":" in subject_key:
        raise ValueError("a subject key holds no colon")
    return f"{referral_id}:{subject_key}".encode()


class ReferralIndex(PairIndex):
    """A read-only, in-memory view of the referral index topic.

    Use as a context manager. Construction reads the topic to its current end (``read_committed``); `refresh` reads
    what came since.

    Args:
        kafka: Connection settings.
        topic: The index topic.
        timeout_s: Longest silence while reading before giving up with ``TransientError``.
    """

    def __init__(self, kafka: KafkaSettings, topic: str = REFERRAL_INDEX_TOPIC, *, timeout_s: float = 30.0) -> None:
        super().__init__(kafka, topic, timeout_s=timeout_s, group_prefix="gateway-riat-index")

    @staticmethod
    def split_key(key: str) -> tuple[str, str]:
        """Split at the last colon: subject keys never hold one, referral ids may."""
        left, _, right = key.rpartition(":")
        return left, right

    def entries(self, referral_id: str) -> tuple[ReferralEntry, ...]:
        """The subjects the referral belongs to, sorted (empty when none; several is a conflict to review)."""
        return tuple(sorted(parse_entry(s, v) for s, v in self.values(referral_id).items()))
