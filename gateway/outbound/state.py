"""What the outbound stage keeps per subject, and its Avro form.

One value per subject key holds the state of every part of the stage, so a batch reads and writes a subject once
and the parts never disagree about what they have seen. The schema is derived from the models
(``gateway.state.model_schema``) and committed under ``schemas/avro/outbound/``; the evolution gate releases it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gateway.adapters.ees.match import EesSubjectState
from gateway.adapters.eurodac.update import EurodacSubjectState
from gateway.adapters.riat.lifecycle import RiatSubjectState
from gateway.adapters.sis.lifecycle import SisSubjectState
from gateway.codec.schemas import SCHEMA_DIR
from gateway.monitor.monitor import MonitorSubjectState
from gateway.state.codec import AvroValueCodec
from gateway.state.model_schema import model_codec

__all__ = [
    "OUTBOUND_NAMESPACE",
    "OUTBOUND_ROOT",
    "OUTBOUND_SCHEMA_DIR",
    "OutboundSubject",
    "SequenceCounter",
    "subject_codec",
]

OUTBOUND_SCHEMA_DIR: Path = SCHEMA_DIR / "outbound"
OUTBOUND_NAMESPACE = "eu.returns.gateway.outbound.v1"
OUTBOUND_ROOT = f"{OUTBOUND_NAMESPACE}.OutboundSubject"


class SequenceCounter(BaseModel):
    """The last sequence number given to a target's messages of one ordering key (a case)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: str
    ordering_key: str
    last: int


class OutboundSubject(BaseModel):
    """The outbound stage's state of one subject.

    Attributes:
        sis: The subject's SIS return alerts.
        eurodac: The subject's Eurodac registrations and assistance updates.
        ees: The subject's open decisions and matched exits (EES matching).
        monitor: The subject's deadline-monitor decisions.
        riat: The subject's RIAT referrals and the case facts their Key Moment 1 needs.
        sequences: Message counters per target and case.
        documents: Travel-document keys already published to the document index.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sis: SisSubjectState | None = None
    eurodac: EurodacSubjectState | None = None
    ees: EesSubjectState | None = None
    monitor: MonitorSubjectState | None = None
    sequences: tuple[SequenceCounter, ...] = ()
    documents: tuple[str, ...] = ()
    riat: RiatSubjectState | None = None

    def next_sequence(self, target: str, ordering_key: str) -> tuple[OutboundSubject, int]:
        """The next sequence number of ``target`` for ``ordering_key``, and the state that remembers it."""
        last = next((c.last for c in self.sequences if (c.target, c.ordering_key) == (target, ordering_key)), 0)
        rest = tuple(c for c in self.sequences if (c.target, c.ordering_key) != (target, ordering_key))
        counter = SequenceCounter(target=target, ordering_key=ordering_key, last=last + 1)
        return self.model_copy(update={"sequences": (*rest, counter)}), last + 1


def subject_codec(history: tuple[dict[str, object], ...] = ()) -> AvroValueCodec[OutboundSubject]:
    """The store's codec: the committed schema, released versions kept readable."""
    return model_codec(OutboundSubject, OUTBOUND_SCHEMA_DIR, OUTBOUND_ROOT, history)
