"""Avro single-object encoding: ``C3 01``, the schema's CRC-64-AVRO fingerprint (little-endian), the Avro body.

This is the registry-less default framing. Writer schemas are found by fingerprint in a ``SchemaStore``; the
bytes are what any Avro implementation that follows the specification reads (Java's ``BinaryMessageDecoder``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from fastavro import schemaless_reader
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from gateway.errors import DecodeError

MAGIC = b"\xc3\x01"
HEADER_LEN = 10


def schema_fingerprint(schema: Any) -> bytes:
    """The 8-byte CRC-64-AVRO fingerprint of a schema's Parsing Canonical Form, little-endian as on the wire."""
    return _pcf_fingerprint(to_parsing_canonical_form(schema))


# fastavro's ``fingerprint`` rebuilds its CRC table on every call: 1.7 ms for the canonical schema, most of what
# building an ``EventCodec`` cost. A pure function of the text, so a bounded cache (a few schema versions) is safe.
@lru_cache(maxsize=64)
def _pcf_fingerprint(canonical_form: str) -> bytes:
    return bytes.fromhex(fingerprint(canonical_form, "CRC-64-AVRO"))


@dataclass(slots=True)
class SchemaStore:
    """Writer schemas by fingerprint: the current schema and every released one, parsed once.

    Attributes:
        current: The schema new events are written with (and read into).
    """

    current: dict[str, Any]
    _by_fp: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    current_fp: bytes = b""

    def __post_init__(self) -> None:
        self.current = cast(dict[str, Any], parse_schema(self.current))
        self.current_fp = self.add(self.current)

    def add(self, schema: Any) -> bytes:
        """Register a writer schema; return its fingerprint."""
        parsed = cast(dict[str, Any], parse_schema(schema))
        fp = schema_fingerprint(parsed)
        self._by_fp.setdefault(fp, parsed)
        return fp

    def add_all(self, schemas: Iterable[Any]) -> None:
        """Register several writer schemas."""
        for s in schemas:
            self.add(s)

    def get(self, fp: bytes) -> dict[str, Any] | None:
        """The writer schema with this fingerprint, or None."""
        return self._by_fp.get(fp)

    def __len__(self) -> int:
        return len(self._by_fp)

    def read(self, data: bytes, *, record_names: bool = False) -> dict[str, Any]:
        """Read single-object bytes written with any schema of the store into a record of the current one.

        Args:
            data: The framed bytes.
            record_names: Name the branch taken by each union of records (fastavro's ``return_record_name`` and its
                override), as the event models need.

        Raises:
            DecodeError: Not single-object framed, written with a schema the store does not hold, or a corrupt body.
        """
        try:
            fp, body = split(data)
        except ValueError as exc:
            raise DecodeError(str(exc)) from exc
        writer = self.get(fp)
        if writer is None:
            raise DecodeError(f"unknown writer schema fingerprint {fp.hex()}")
        try:
            out = schemaless_reader(
                io.BytesIO(body),
                writer,
                self.current,
                return_record_name=record_names,
                return_record_name_override=record_names,
            )
        except Exception as exc:  # fastavro raises assorted errors on corrupt bodies
            raise DecodeError(f"corrupt Avro body: {exc}") from exc
        return cast(dict[str, Any], out)


def header(fp: bytes) -> bytes:
    """The 10-byte single-object header for a fingerprint."""
    return MAGIC + fp


def split(data: bytes) -> tuple[bytes, memoryview]:
    """Split single-object bytes into fingerprint and body; raise ``ValueError`` if they are not framed so."""
    if len(data) < HEADER_LEN or data[:2] != MAGIC:
        raise ValueError("not Avro single-object encoding (expected C3 01 and an 8-byte fingerprint)")
    return bytes(data[2:HEADER_LEN]), memoryview(data)[HEADER_LEN:]
