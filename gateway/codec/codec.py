"""The event codec: canonical events to bytes and back, in single-object or Confluent framing.

Encoding uses single-object encoding unless a schema registry is configured. Decoding reads both framings,
told apart by their first byte (``C3`` or ``00``), and always resolves the writer schema to the current one.
"""

from __future__ import annotations

import io
from typing import Any, Protocol

from fastavro import schemaless_writer

from gateway.codec import single_object
from gateway.codec.avro_dict import from_avro, to_avro
from gateway.codec.compiled_writer import WRITERS, NotCompilableError, Writer, WriterCache
from gateway.codec.history import released_schemas
from gateway.codec.model_reader import build_event
from gateway.codec.schemas import canonical_schema
from gateway.codec.single_object import SchemaStore
from gateway.errors import DecodeError, SchemaValidationError
from gateway.events.models import CaseEvent

CONFLUENT_MAGIC = 0


class RegistryFraming(Protocol):
    """Confluent wire-format framing backed by a schema registry (see ``gateway.codec.registry``)."""

    def encode(self, record: dict[str, Any], topic: str) -> bytes:
        """Frame an Avro record for ``topic`` (``00``, schema id, body)."""
        ...

    def decode(self, data: bytes, topic: str) -> dict[str, Any]:
        """Read Confluent-framed bytes into a record of the current schema."""
        ...


def default_store() -> SchemaStore:
    """The current canonical schema plus every released version, so that old events stay readable."""
    store = SchemaStore(canonical_schema())
    store.add_all(released_schemas())
    return store


class EventCodec:
    """Encode and decode ``CaseEvent``s.

    Single-object encoding writes through a writer compiled from the current schema
    (``gateway.codec.compiled_writer``); whatever that writer declines goes through fastavro, which writes the
    same bytes or says why the event does not fit.

    Construction is cheap after the first in a process (about 1 ms): the released schemas are read and parsed
    once per set of files (``gateway.codec.history.released_schemas``) and the compiled writer is shared by
    every codec of the same schema (``gateway.codec.compiled_writer.WRITERS``, keyed by fingerprint). The first
    one costs about 12 ms.

    Args:
        store: Writer schemas by fingerprint; defaults to the current canonical schema.
        registry: Confluent framing; when given, ``encode`` uses it.
        compiled: Use the compiled writer (False: fastavro only, e.g. to compare the two).
        writers: Where compiled writers are found (default: the process's shared, bounded cache).
    """

    def __init__(
        self,
        store: SchemaStore | None = None,
        registry: RegistryFraming | None = None,
        *,
        compiled: bool = True,
        writers: WriterCache = WRITERS,
    ) -> None:
        self.store = store or default_store()
        self.registry = registry
        self._header = single_object.header(self.store.current_fp)
        self._compiled: Writer | None = None
        if compiled and registry is None:
            try:
                self._compiled = writers.get(self.store.current_fp, self.store.current)
            except NotCompilableError:
                self._compiled = None  # a schema construct it does not know: fastavro writes everything

    def encode(self, event: CaseEvent, topic: str = "") -> bytes:
        """Encode an event; raise ``SchemaValidationError`` if the Avro writer rejects it."""
        if self._compiled is not None:
            try:
                return self._header + self._compiled(event)
            except Exception:  # noqa: S110 - declined or malformed: fastavro below is the authority on both
                pass
        try:
            record = to_avro(event)
        except (AttributeError, KeyError, TypeError) as exc:  # a record or payload missing where one is required
            raise SchemaValidationError(f"event does not fit the canonical Avro schema: {exc}") from exc
        return self.encode_record(record, topic)

    def encode_record(self, record: dict[str, Any], topic: str = "") -> bytes:
        """Encode an already converted Avro record (see ``gateway.codec.avro_dict.to_avro``)."""
        try:
            if self.registry is not None:
                return self.registry.encode(record, topic)
            buf = io.BytesIO()
            buf.write(self._header)
            schemaless_writer(buf, self.store.current, record)
            return buf.getvalue()
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SchemaValidationError(f"event does not fit the canonical Avro schema: {exc}") from exc

    def decode_record(self, data: bytes, topic: str = "") -> dict[str, Any]:
        """Decode bytes in either framing into an Avro record of the current schema."""
        if not data:
            raise DecodeError("empty message")
        if data[0] == CONFLUENT_MAGIC:
            if self.registry is None:
                raise DecodeError("Confluent-framed message but no schema registry is configured")
            return self.registry.decode(data, topic)
        return self.store.read(data, record_names=True)

    def decode(self, data: bytes, topic: str = "", *, trusted: bool = False) -> CaseEvent:
        """Decode bytes in either framing into an event.

        Either way the Avro reader checks the bytes against the writer schema and resolves them to the current
        one: every value has its field's type, every enum symbol is one of the reader's (an unknown one becomes
        the enum's default), every union value is one of its branches. What differs is how the models are built.

        Validated (the default) runs pydantic's validation over the record, as for any outside input. Use it
        where the bytes may come from anything else than an Avro writer of the canonical schema, or where a
        record that breaks a model constraint must be refused rather than read.

        Trusted builds the same models (equal, with the same types) without re-validating
        (``gateway.codec.model_reader``: about 6 µs instead of 10 per example event). Use it for bulk readers of
        topics this gateway's codec writes (the canonical topic: the detector, replay, statistics), or that any
        Avro writer of the canonical schema writes. It still runs the envelope's check that ``event_type`` names
        the payload's type. It does not re-check the constraints the models add to the Avro types:

        - ``AssistanceComponent.amount_eur`` and ``BudgetLine.amount_eur``: at most 12 digits
          (``max_digits=12``; ``decimal_places=2`` always holds, as the reader gives every decimal its schema's
          scale). Avro's decimal precision is not checked by readers; this gateway's writers (compiled and
          fastavro) refuse a value that exceeds it, another Avro writer may not.
        - ``extra="forbid"``: keys the models do not know are ignored rather than refused. A record from the
          reader has exactly the current schema's fields, which codegen keeps in step with the models.

        ``AwareDatetime`` needs no check: the reader returns every ``timestamp-millis`` in UTC.
        ``gateway.codec.model_reader.unchecked()`` lists the constraints from the models themselves.

        Args:
            data: The message value.
            topic: The topic, for Confluent framing's subject.
            trusted: Build the models without pydantic's validation (see above).

        Raises:
            DecodeError: The bytes are not a canonical event (either path); on the trusted path also a record the
                models cannot hold, e.g. an ``event_type`` that does not name the payload's type. The validated
                path raises pydantic's ``ValidationError`` for those.
        """
        record = self.decode_record(data, topic)
        if not trusted:
            return from_avro(record)
        try:
            return build_event(record)
        except ValueError as exc:
            raise DecodeError(f"not a canonical event: {exc}") from exc


def event_codec(registry_url: str | None) -> EventCodec:
    """A deployment's event codec: single-object encoding, or Confluent framing when a registry URL is configured."""
    if registry_url is None:
        return EventCodec()
    # Imported here: the registry client is only loaded by deployments that use one.
    from gateway.codec.registry import ConfluentFraming, RegistrySettings

    return EventCodec(registry=ConfluentFraming.from_settings(RegistrySettings(url=registry_url)))
