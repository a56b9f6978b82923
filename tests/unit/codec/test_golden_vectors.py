"""The Python codec against golden vectors written by Apache Avro's Java library (no Java needed to run these).

``tests/golden`` holds what ``tools/avro-golden`` (Avro Java ``BinaryMessageEncoder``) wrote for the example
events, given to it in Avro's JSON encoding (``events.avro.jsonl``, converted from the examples without fastavro):

* ``soe.tsv``: event type, tab, single-object bytes as hex;
* ``fingerprint.json``: ``SchemaNormalization.parsingFingerprint64`` and the Parsing Canonical Form's SHA-256.

Regenerate with ``tools/avro-golden/regenerate`` (``--inputs`` when the examples changed) and review the diff.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from fastavro.schema import to_parsing_canonical_form

from gateway.codec.codec import EventCodec
from gateway.codec.schemas import canonical_schema
from gateway.codec.single_object import schema_fingerprint
from gateway.events.models import CaseEvent, EventType
from gateway.testing import examples

GOLDEN = Path(__file__).resolve().parents[2] / "golden"

# Every example at index 0, plus one at index 1, whose validation warning puts a ValidationFinding on the wire.
# The Java tool keys a further example of a type "<TYPE>.<n>"; tools/avro-golden/avro_json.py writes this order.
CASES: list[tuple[EventType, int]] = [*((t, 0) for t in examples.payloads()), (EventType.NON_RETURN_RECORDED, 1)]


def case_key(event_type: EventType, index: int) -> str:
    return str(event_type) if index == 0 else f"{event_type}.{index}"


CASE_IDS = [case_key(t, i) for t, i in CASES]


def golden_soe() -> dict[str, bytes]:
    """The Java-written single-object bytes by case key."""
    rows = {}
    for line in (GOLDEN / "soe.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, hex_bytes = line.split("\t")
            rows[key] = bytes.fromhex(hex_bytes)
    return rows


def golden_json() -> list[dict[str, Any]]:
    """The Avro JSON inputs of the Java tool, in file order (that of ``CASES``)."""
    lines = (GOLDEN / "events.avro.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def golden_fingerprint() -> dict[str, Any]:
    """What Java computed for the canonical schema."""
    data: dict[str, Any] = json.loads((GOLDEN / "fingerprint.json").read_text(encoding="utf-8"))
    return data


def example(event_type: EventType, index: int) -> CaseEvent:
    return examples.event(event_type, index=index)


def first_difference(a: bytes, b: bytes) -> str:
    """Where two byte strings part, for a readable failure."""
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    ours, java = a[at : at + 12].hex(), b[at : at + 12].hex()
    return f"lengths {len(a)}/{len(b)}, first difference at byte {at}: {ours} vs {java}"


@pytest.fixture(scope="module")
def codec() -> EventCodec:
    return EventCodec()


def test_golden_files_cover_every_case() -> None:
    assert list(golden_soe()) == CASE_IDS
    assert [(line["event_type"], line["event_id"]) for line in golden_json()] == [
        (str(t), str(example(t, i).event_id)) for t, i in CASES
    ]
    assert set(examples.payloads()) == set(EventType) - {EventType.UNKNOWN}


def test_golden_files_stay_small() -> None:
    for path in GOLDEN.iterdir():
        assert path.stat().st_size < 16 * 1024, f"{path.name} should stay a few KB"


def test_fingerprint_matches_java() -> None:
    java = golden_fingerprint()
    fp = schema_fingerprint(canonical_schema())
    assert fp.hex() == java["crc64_avro_le"]
    # Java's long, little-endian, is the same 8 bytes: the golden file agrees with itself.
    assert struct.pack("<q", java["parsing_fingerprint64"]) == fp


def test_parsing_canonical_form_matches_java() -> None:
    java = golden_fingerprint()
    pcf = to_parsing_canonical_form(canonical_schema()).encode("utf-8")
    assert (len(pcf), hashlib.sha256(pcf).hexdigest()) == (java["pcf_length"], java["pcf_sha256"])


@pytest.mark.parametrize(("event_type", "index"), CASES, ids=CASE_IDS)
def test_encode_matches_java(codec: EventCodec, event_type: EventType, index: int) -> None:
    java = golden_soe()[case_key(event_type, index)]
    ours = codec.encode(example(event_type, index))
    assert ours == java, first_difference(ours, java)


@pytest.mark.parametrize(("event_type", "index"), CASES, ids=CASE_IDS)
def test_decode_java_bytes(codec: EventCodec, event_type: EventType, index: int) -> None:
    assert codec.decode(golden_soe()[case_key(event_type, index)]) == example(event_type, index)


# Java writes a decimal's unscaled value with BigInteger.toByteArray (Conversions.DecimalConversion.toBytes): the
# fewest bytes, so -1.28 (unscaled -128) is the single byte 0x80. fastavro sizes the bytes from the magnitude and
# writes ff 80. Both decode to -1.28, so readers agree; only byte-for-byte comparison with a Java writer differs,
# and only for negative amounts whose unscaled value is -2**(8k-1). No example has one.
@pytest.mark.xfail(strict=True, reason="fastavro pads some negative decimals by one byte (ff 80 for -128)")
def test_negative_decimal_bytes_are_minimal_like_java() -> None:
    schema = parse_schema({"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2})
    buf = io.BytesIO()
    schemaless_writer(buf, schema, Decimal("-1.28"))
    assert buf.getvalue() == b"\x02\x80"  # length 1 (zigzag 2), then 0x80
