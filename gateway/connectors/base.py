"""The connector contract.

A connector knows a national format and nothing about Kafka. It implements three hooks:

- ``read(stream, source)``: cut an export into raw records, streaming (the only hook that does I/O);
- ``parse(record)``: turn one raw record into a national structure (pure; raises ``ParseError``);
- ``map(parsed)``: turn that structure into canonical ``Fact``s (pure; raises ``MappingError``).

The framework owns the rest (``translate`` wraps facts into ``CaseEvent`` envelopes) and marks it ``@final``.

Rendering sample data is an optional, separate part of the contract (``SampleRenderer``): a connector that
renders the shared case stories into its format (``render``), knows how to damage a record (``corrupt``, with
the kinds of damage in ``defect_kinds``) and writes whole exports (``write_export``) gets sample generation and
the conformance kit's rendering tiers; one that does not is still a complete connector, checked on its golden
files. ``renders_samples`` says which a connector is.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar, Generic, Literal, Protocol, TypeVar, final, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.errors import MappingError, ParseError, RecordError
from gateway.events.models import EVENT_TYPE_OF, CaseEvent, MemberState, Payload, Source, ValidationFinding
from gateway.events.trusted import trusted


class ConnectorConfig(BaseModel):
    """Configuration every connector has; connectors subclass it with their own fields.

    Attributes:
        member_state: Member State whose system the export comes from.
        errors_tolerance: ``all``: a bad record goes to the dead-letter queue and ingestion goes on;
            ``none``: the first bad record stops ingestion (Kafka Connect's ``errors.tolerance``).
        max_record_bytes: Records larger than this are rejected before parsing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_state: MemberState
    errors_tolerance: Literal["none", "all"] = "all"
    max_record_bytes: int = Field(1_048_576, gt=0)


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One national record as it was read: the original bytes, untouched, and where they came from.

    Attributes:
        data: The record's original bytes (what the dead-letter queue keeps).
        source: File path or topic the record came from.
        position: Where in the source (``line 17``, ``record 3 at byte 5120``, ``topic/0/15``).
        index: Ordinal of the record in its source, from 0.
        encoding: Text encoding of ``data`` as detected by the reader.
        context: Bytes that give the record its meaning but belong to the whole source (a CSV header line).
        error: Set when the reader could not cut a clean record (truncated file, bad encoding); the framework
            then dead-letters the record without parsing it.
        original_length: Set (with ``original_sha256``) when ``data`` is only the start of a record the reader
            would not keep whole (longer than ``max_record_bytes``): the length of the whole record.
        original_sha256: SHA-256 (hex) of the whole record, computed while skipping it; the dead letter carries
            both in ``gw.original.length`` and ``gw.original.sha256``.
    """

    data: bytes
    source: str
    position: str
    index: int = 0
    encoding: str = "utf-8"
    context: bytes = b""
    error: RecordError | None = None
    original_length: int | None = None
    original_sha256: str | None = None


class OversizedRecord:
    """Follows one record a reader will not keep whole: keeps its first bytes, hashes and counts all of them.

    Readers feed the record's bytes as they stream past (``update``) and call ``record`` at its end, so an
    over-long record costs ``keep`` bytes of memory whatever its size and becomes one dead letter, with the
    length and SHA-256 of the whole record, in every connector alike.
    """

    __slots__ = ("_hash", "_keep", "_prefix", "length")

    def __init__(self, keep: int) -> None:
        """Keep at most ``keep`` leading bytes (normally the connector's ``max_record_bytes``)."""
        self._keep = keep
        self._prefix = bytearray()
        self._hash = hashlib.sha256()
        self.length = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next bytes of the record."""
        room = self._keep - len(self._prefix)
        if room > 0:
            self._prefix += data[:room]
        self._hash.update(data)
        self.length += len(data)

    def record(
        self, source: str, position: str, index: int, *, what: str = "record", limit: int | None = None
    ) -> RawRecord:
        """The error record: the kept prefix, the whole record's length and digest, and a ``ParseError``."""
        limit = self._keep if limit is None else limit
        error = ParseError(
            f"{what} of {self.length} bytes exceeds the limit of {limit} (max_record_bytes); the dead letter keeps "
            f"its first {len(self._prefix)} bytes and the SHA-256 of all of it",
            position=position,
        )
        return RawRecord(
            data=bytes(self._prefix),
            source=source,
            position=position,
            index=index,
            error=error,
            original_length=self.length,
            original_sha256=self._hash.hexdigest(),
        )


@dataclass(frozen=True, slots=True)
class Fact:
    """What a connector maps a record to: one canonical payload with its case context.

    Attributes:
        case_reference: National case reference (Eurodac Art. 17(1)(k)).
        person_ref: National person identifier; the framework pseudonymises it into the subject key.
        occurred_at: When the fact happened (timezone-aware).
        payload: The canonical payload.
        warnings: WARNING findings the connector made while reading the record (an ambiguous local time
            resolved by policy); they travel in the event's ``validation_warnings``.
    """

    case_reference: str
    person_ref: str
    occurred_at: dt.datetime
    payload: Payload
    warnings: tuple[ValidationFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class MappingContext:
    """What the framework adds to facts to make envelopes.

    Attributes:
        connector: Connector name.
        version: Connector distribution version.
        member_state: Member State of the source system.
        correlation_id: Correlates the events of one ingest run or replay.
        recorded_at: When the gateway recorded the events.
        pseudonymise: Maps a national person identifier to the pseudonymous subject key.
    """

    connector: str
    version: str
    member_state: MemberState
    correlation_id: str
    recorded_at: dt.datetime
    pseudonymise: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """A rendered sample record and what the gateway must make of it.

    Attributes:
        data: The record's bytes in the national format.
        facts: The facts a correct connector maps it to (empty for a defective record).
        defect: The kind of damage done to it, or None for a valid record.
    """

    data: bytes
    facts: tuple[Fact, ...]
    defect: str | None = None


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """Base class of connector plugins: implement ``read``, ``parse`` and ``map``.

    Class attributes:
        name: Registered name (the entry-point name).
        version: Version of the connector, carried in every event's ``source``.
        formats: Formats it reads, e.g. ``("xml",)``.
        config_model: Its configuration model.
        defect_kinds: Kinds of sample damage ``corrupt`` can do, with a description each (``SampleRenderer``).

    ``render``, ``corrupt`` and ``write_export`` below are the optional ``SampleRenderer`` part: the defaults of
    the first two refuse, so a connector renders samples only if it overrides them (``renders_samples``).
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0.0.0"
    formats: ClassVar[tuple[str, ...]]
    config_model: ClassVar[type[ConnectorConfig]]
    defect_kinds: ClassVar[Mapping[str, str]] = {}

    def __init__(self, config: ConfigT) -> None:
        self.config = config

    # ---- hooks -----------------------------------------------------------------------------------------------

    @abstractmethod
    def read(self, stream: BinaryIO, source: str) -> Iterator[RawRecord]:
        """Cut an export into raw records, streaming in constant memory."""

    def from_message(
        self, value: bytes, source: str, position: str, index: int, headers: Mapping[str, bytes] | None = None
    ) -> RawRecord:
        """Make a raw record of one message from a raw inbound Kafka topic (one record a message).

        ``headers`` are the message's headers. A dead letter replayed from a file carries the file's
        ``gw.source.encoding`` and ``gw.source.context`` (e.g. a CSV header line), so a connector can read the
        record as it was read from its file.
        """
        return RawRecord(data=value, source=source, position=position, index=index)

    @abstractmethod
    def parse(self, record: RawRecord) -> Any:
        """Parse one raw record into a national structure; pure; raise ``ParseError`` on malformed input."""

    @abstractmethod
    def map(self, parsed: Any) -> list[Fact]:
        """Map a parsed record to canonical facts; pure; raise ``MappingError`` when that is impossible."""

    def render(self, story: Any, rng: random.Random) -> list[SampleRecord]:
        """Render a case story (``gateway.samples.stories.CaseStory``) as valid national records (optional)."""
        raise NotImplementedError(f"{self.name} cannot render samples")

    def corrupt(self, record: SampleRecord, kind: str, rng: random.Random) -> bytes:
        """Damage a valid record's bytes in the way ``kind`` names (one of ``defect_kinds``; optional)."""
        raise NotImplementedError(f"{self.name} cannot corrupt samples")

    def write_export(self, out: BinaryIO, records: Iterable[bytes]) -> None:
        """Write records as one export file (add the file's header and trailer, if the format has them)."""
        for data in records:
            out.write(data)

    # ---- framework-owned steps -------------------------------------------------------------------------------

    @final
    def translate(self, record: RawRecord, ctx: MappingContext) -> list[CaseEvent]:
        """Turn one raw record into canonical events, or raise the ``RecordError`` that explains why not."""
        if record.error is not None:
            raise record.error
        if len(record.data) > self.config.max_record_bytes:
            raise ParseError(
                f"record of {len(record.data)} bytes exceeds the limit of {self.config.max_record_bytes}",
                position=record.position,
            )
        try:
            facts = self.map(self.parse(record))
        except ValidationError as exc:
            # A model the record's values cannot build is bad data, like an unknown code: a dead letter, not a
            # crash of the whole ingest.
            raise MappingError(validation_message(exc), position=record.position) from exc
        # Event ids must stay what they were for existing data (name, record digest, fact index): one hash of the
        # bytes and one of that seed; a single hash would change every id, so both stay.
        digest = hashlib.sha256(record.data).hexdigest()[:32]
        return [envelope(fact, ctx, event_id_seed=f"{self.name}:{digest}:{i}") for i, fact in enumerate(facts)]


@runtime_checkable
class SampleRenderer(Protocol):
    """The optional part of the contract: rendering sample exports (sample generation, the kit's rendering tiers).

    A connector provides it by overriding ``render`` and ``corrupt`` and declaring ``defect_kinds``; the
    ``Connector`` base supplies ``write_export`` (records written one after the other).
    """

    defect_kinds: ClassVar[Mapping[str, str]]

    def render(self, story: Any, rng: random.Random) -> list[SampleRecord]:
        """Render a case story as valid national records, each with the facts it must map to."""
        ...

    def corrupt(self, record: SampleRecord, kind: str, rng: random.Random) -> bytes:
        """Damage a valid record's bytes in the way ``kind`` names."""
        ...

    def write_export(self, out: BinaryIO, records: Iterable[bytes]) -> None:
        """Write records as one export file."""
        ...


def renders_samples(connector: Connector[Any] | type[Connector[Any]]) -> bool:
    """Whether a connector (instance or class) provides the optional ``SampleRenderer`` part."""
    cls = connector if isinstance(connector, type) else type(connector)
    return cls.render is not Connector.render and cls.corrupt is not Connector.corrupt


def validation_message(exc: ValidationError) -> str:
    """A one-line message for a pydantic ``ValidationError``: the model, then each failing field and why."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(model)'}: {error['msg']}" for error in exc.errors()
    )
    return f"invalid {exc.title}: {problems}"


def envelope(fact: Fact, ctx: MappingContext, *, event_id_seed: str) -> CaseEvent:
    """Wrap a fact into a ``CaseEvent``.

    The event id is derived from the record's content, so a record ingested twice (a restart after a crash,
    a replay) yields the same event ids and consumers can deduplicate.

    The envelope is built without pydantic validation: the payload is a model the connector already validated,
    and the other fields are the framework's own; only the connector-supplied timestamp is checked, since an
    aware UTC instant is what keeps dates from shifting. The Avro writer checks the whole event again.
    """
    occurred = fact.occurred_at
    if occurred.tzinfo is None:
        raise MappingError(f"occurred_at {occurred.isoformat()} has no time zone")
    event_type = EVENT_TYPE_OF.get(type(fact.payload))
    if event_type is None:
        raise MappingError(f"{type(fact.payload).__name__} is not a canonical payload")
    digest = hashlib.sha256(event_id_seed.encode()).digest()
    return trusted(
        CaseEvent,
        {
            "event_id": uuid.UUID(bytes=digest[:16], version=5),
            "event_type": event_type,
            "occurred_at": occurred,
            "recorded_at": ctx.recorded_at,
            "member_state": ctx.member_state,
            "source": _source(ctx.connector, ctx.version),
            "case_reference": fact.case_reference,
            "subject_key": ctx.pseudonymise(fact.person_ref),
            "correlation_id": ctx.correlation_id,
            "validation_warnings": fact.warnings,
            "payload": fact.payload,
        },
    )


@functools.lru_cache(maxsize=64)
def _source(connector: str, version: str) -> Source:
    # Frozen, so one instance per connector version can be shared by all its events.
    return trusted(Source, {"connector": connector, "version": version})
