"""State values as Avro: single-object encoded, so a value written by an older schema version stays readable.

A store keeps bytes; a ``ValueCodec`` turns its values into bytes and back. ``AvroValueCodec`` is the only codec
the gateway uses (never pickle): the value's schema lives in ``schemas/avro/state/`` (or another folder of one
``<full name>.avsc`` per named type), its released versions in ``schemas/history/<root>/``, and each value is
framed with the fingerprint of the schema it was written with, as canonical events are.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from fastavro import schemaless_writer

from gateway.codec import single_object
from gateway.codec.schemas import load_root
from gateway.codec.single_object import SchemaStore

__all__ = ["AvroValueCodec", "BytesCodec", "ValueCodec"]

T = TypeVar("T")
T_co = TypeVar("T_co")


class ValueCodec(Protocol[T]):
    """Turns a store's values into bytes and back."""

    def encode(self, value: T) -> bytes:
        """The value's bytes."""
        ...

    def decode(self, data: bytes) -> T:
        """The value of these bytes; raise ``DecodeError`` if they are not one."""
        ...


class BytesCodec:
    """The identity codec, for stores whose callers already hold bytes."""

    def encode(self, value: bytes) -> bytes:
        """The bytes themselves."""
        return value

    def decode(self, data: bytes) -> bytes:
        """The bytes themselves."""
        return data


class AvroValueCodec(Generic[T]):
    """Values as Avro single-object encoding, through conversion functions to and from Avro records (dicts).

    It remembers the values of the last few thousand bytes it decoded: the value of given bytes never changes, so
    reading the same bytes again skips the Avro decoding. By default only decoded values are remembered, never the
    values given to ``encode``: the encoding may drop detail (instants to the millisecond), and a value read back
    must be the same whether it was remembered or decoded after a restart.

    With ``lossless=True`` the caller promises that every value it encodes survives the round trip exactly
    (``decode(encode(v)) == v``, down to the time zone of instants), as the case states of
    ``gateway.validation.state`` do; ``encode`` then remembers its bytes' value too, so reading back what was just
    written skips the decoding as well. A value that breaks the promise would be handed back as given by this
    process and as decoded by a restarted one: verdicts would then depend on restarts. The values must be
    immutable (named tuples, frozen dataclasses), as the state runtime's values are.

    Args:
        schema_dir: Folder with one ``<full name>.avsc`` file per named type.
        root: Full name of the value's record type.
        to_avro: The value as an Avro record (a dict fastavro writes).
        from_avro: The value of an Avro record read into the current schema.
        history: Schemas of released versions, so values written with them stay readable.
        remember: How many values of recently decoded (or, lossless, encoded) bytes to keep (0: none).
        lossless: Every value given to ``encode`` round-trips exactly, so ``encode`` may remember it too.
    """

    def __init__(
        self,
        schema_dir: Path,
        root: str,
        to_avro: Callable[[T], dict[str, Any]],
        from_avro: Callable[[dict[str, Any]], T],
        history: Iterable[dict[str, Any]] = (),
        *,
        remember: int = 4096,
        lossless: bool = False,
    ) -> None:
        self.store = SchemaStore(load_root(schema_dir, root))
        self.store.add_all(history)
        self._header = single_object.header(self.store.current_fp)
        self._to_avro = to_avro
        self._from_avro = from_avro
        self._remember = remember
        self.lossless = lossless
        self._recent: dict[bytes, T] = {}

    @property
    def schema(self) -> dict[str, Any]:
        """The current (parsed) schema."""
        return self.store.current

    def encode(self, value: T) -> bytes:
        """Single-object bytes of the value."""
        buf = io.BytesIO()
        buf.write(self._header)
        schemaless_writer(buf, self.store.current, self._to_avro(value))
        data = buf.getvalue()
        if self.lossless:
            self._keep(data, value)
        return data

    def decode(self, data: bytes) -> T:
        """The value of single-object bytes written with the current or a released schema."""
        known = self._recent.get(data)
        if known is not None:
            return known
        value = self._from_avro(self.store.read(data))
        self._keep(data, value)
        return value

    def _keep(self, data: bytes, value: T) -> None:
        if self._remember:
            if len(self._recent) >= self._remember:
                self._recent.clear()  # cheaper than tracking recency, and the working set refills within a batch
            self._recent[data] = value
