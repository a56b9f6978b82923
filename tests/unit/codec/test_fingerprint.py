"""CRC-64-AVRO written from the Avro specification, checked against fastavro's, and the single-object frame.

The specification ("Schema Fingerprints") gives the 64-bit Rabin fingerprint as a table-driven CRC: ``EMPTY`` is
``0xc15d213aa4d7a795``, entry ``i`` of the table is ``i`` shifted right eight times, xor-ing ``EMPTY`` in whenever
a one bit drops out, and each byte updates ``fp = (fp >> 8) ^ table[(fp ^ byte) & 0xff]``. Nothing here imports
fastavro's implementation, so agreement with ``schema_fingerprint`` is agreement of two implementations.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from fastavro.schema import to_parsing_canonical_form
from hypothesis import given
from hypothesis import strategies as st

from gateway.codec.codec import EventCodec
from gateway.codec.schemas import canonical_schema
from gateway.codec.single_object import HEADER_LEN, MAGIC, header, schema_fingerprint, split
from gateway.events.models import EventType
from gateway.testing import examples

EMPTY = 0xC15D213AA4D7A795
GOLDEN = Path(__file__).resolve().parents[2] / "golden"


@cache
def _table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            # -(fp & 1) is all ones when the low bit is set, so EMPTY is xor-ed in exactly then.
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    return tuple(table)


def crc64_avro(data: bytes) -> int:
    """The 64-bit Rabin fingerprint of ``data`` as an unsigned integer."""
    table = _table()
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def wire(fp: int) -> bytes:
    """A fingerprint as single-object encoding puts it on the wire: 8 bytes, little-endian."""
    return fp.to_bytes(8, "little")


# Parsing Canonical Forms and their fingerprints from Avro's own cross-language test data
# (share/test/data/schema-tests.txt), given there as Java's signed 64-bit value.
PUBLISHED = [
    ('"null"', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    ('"long"', -3434872931120570953),
    ('"bytes"', 5746618253357095269),
    ('"string"', -8142146995180207161),
    ('{"name":"foo","type":"record","fields":[]}', -4824392279771201922),
    ('{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}', -4448647247586288245),
]


def test_table_has_256_distinct_64_bit_entries() -> None:
    table = _table()
    assert table[0] == 0
    assert len(set(table)) == 256
    assert all(0 <= v < 2**64 for v in table)


def test_spec_vector_int() -> None:
    # The specification's example, printed little-endian as fastavro and the wire have it.
    assert wire(crc64_avro(b'"int"')).hex() == "8f5c393f1ad57572"


def test_empty_input_is_empty_constant() -> None:
    assert crc64_avro(b"") == EMPTY


@pytest.mark.parametrize(("pcf", "signed"), PUBLISHED, ids=[p for p, _ in PUBLISHED])
def test_published_vectors(pcf: str, signed: int) -> None:
    assert crc64_avro(pcf.encode()) == signed % 2**64


@pytest.mark.parametrize(("pcf", "signed"), PUBLISHED, ids=[p for p, _ in PUBLISHED])
def test_fastavro_agrees_on_published_vectors(pcf: str, signed: int) -> None:
    assert schema_fingerprint(json.loads(pcf)) == wire(signed % 2**64)


def test_canonical_schema_fingerprint_agrees() -> None:
    pcf = to_parsing_canonical_form(canonical_schema())
    assert schema_fingerprint(canonical_schema()) == wire(crc64_avro(pcf.encode("utf-8")))


def test_canonical_schema_fingerprint_is_the_java_one() -> None:
    java = json.loads((GOLDEN / "fingerprint.json").read_text(encoding="utf-8"))
    pcf = to_parsing_canonical_form(canonical_schema())
    assert wire(crc64_avro(pcf.encode("utf-8"))).hex() == java["crc64_avro_le"]


@pytest.mark.parametrize(
    ("logical", "primitive"),
    [
        ({"type": "long", "logicalType": "timestamp-millis"}, "long"),
        ({"type": "int", "logicalType": "date"}, "int"),
        ({"type": "string", "logicalType": "uuid"}, "string"),
        ({"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}, "bytes"),
    ],
    ids=["timestamp-millis", "date", "uuid", "decimal"],
)
def test_logical_types_are_stripped_from_the_canonical_form(logical: dict[str, object], primitive: str) -> None:
    # The spec's [PRIMITIVES] rule, as Java's SchemaNormalization applies it. The Python `avro` package instead
    # keeps {"type": "long"}, whose fingerprint differs: it must never be the wire fingerprint.
    assert schema_fingerprint(logical) == wire(crc64_avro(f'"{primitive}"'.encode()))
    assert schema_fingerprint(logical) != wire(crc64_avro(f'{{"type":"{primitive}"}}'.encode()))


def test_header_is_magic_and_fingerprint() -> None:
    fp = schema_fingerprint(canonical_schema())
    assert header(fp) == b"\xc3\x01" + fp
    assert len(header(fp)) == HEADER_LEN == 10
    data = EventCodec().encode(examples.event(EventType.ENTRY_RECORDED))
    assert data[:HEADER_LEN] == b"\xc3\x01" + wire(crc64_avro(to_parsing_canonical_form(canonical_schema()).encode()))


def test_split_returns_fingerprint_and_body() -> None:
    fp = bytes(range(8))
    got_fp, body = split(MAGIC + fp + b"body")
    assert got_fp == fp
    assert bytes(body) == b"body"
    got_fp, body = split(MAGIC + fp)
    assert (got_fp, bytes(body)) == (fp, b"")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc3",
        b"\xc3\x01",
        b"\xc3\x01" + bytes(7),  # fingerprint one byte short
        b"\xc3\x02" + bytes(8),  # a future version of the header
        b"\x01\xc3" + bytes(8),  # magic bytes swapped
        b"\x00\x00\x00\x00\x01" + bytes(8),  # Confluent framing
    ],
    ids=["empty", "one-byte", "magic-only", "short-fingerprint", "bad-version", "swapped", "confluent"],
)
def test_split_rejects_bad_frames(data: bytes) -> None:
    with pytest.raises(ValueError, match="single-object"):
        split(data)


@given(st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda b: MAGIC + b)))
def test_split_property(data: bytes) -> None:
    try:
        fp, body = split(data)
    except ValueError:
        assert len(data) < HEADER_LEN or data[:2] != MAGIC
        return
    assert len(fp) == 8
    assert data[:2] == MAGIC
    assert fp == data[2:HEADER_LEN]
    assert bytes(body) == data[HEADER_LEN:]
