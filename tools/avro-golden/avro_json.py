"""Write the example events in Avro's JSON encoding: the reviewed inputs of the golden vectors.

Run once (``regenerate --inputs``) when the examples or the schemas change, then review the diff of
``tests/golden/events.avro.jsonl``: the Java tool encodes these lines, and the Python codec must produce the same
bytes from the example events. The conversion below is written from the Avro specification and deliberately does
not use fastavro, whose logical-type handling is part of what the golden vectors check:

* a union is ``null`` or ``{"<branch>": value}``, the branch named by its full name (primitives by type name,
  whatever their logical type);
* ``uuid`` is the canonical string; ``date`` the days since 1970-01-01; ``timestamp-millis`` the milliseconds since
  the epoch (UTC);
* ``decimal`` (on ``bytes``) is the unscaled value as big-endian two's complement in the fewest bytes (what Java's
  ``BigInteger.toByteArray`` gives), and bytes are a JSON string of code points 0-255.

Usage: ``python tools/avro-golden/avro_json.py > tests/golden/events.avro.jsonl``
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
import uuid
from enum import Enum
from typing import Any

from gateway.codec.schemas import ROOT_TYPE, read_named_types
from gateway.events.models import AvroModel, CaseEvent, EventType
from gateway.testing import examples

EPOCH_DAY = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def unscaled_bytes(value: decimal.Decimal, scale: int) -> bytes:
    """The unscaled integer of a decimal as minimal big-endian two's complement; refuse values that need rounding."""
    unscaled = value.scaleb(scale)
    if unscaled != unscaled.to_integral_value():
        raise ValueError(f"{value} has more than {scale} decimal places")
    n = int(unscaled)
    # Two's complement needs one sign bit beyond the magnitude bits; ~n has them for negatives (-128 -> 1 byte).
    length = (n if n >= 0 else ~n).bit_length() // 8 + 1
    return n.to_bytes(length, "big", signed=True)


class AvroJson:
    """Converts model values to Avro JSON by walking the raw ``.avsc`` schemas.

    Args:
        types: Raw schemas of the named types, keyed by full name (``read_named_types``).
    """

    def __init__(self, types: dict[str, dict[str, Any]]) -> None:
        self.types = types

    def resolve(self, schema: Any) -> Any:
        """Replace a reference to a named type by its definition."""
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return self.types[schema]
        return schema

    @staticmethod
    def branch_name(schema: Any) -> str:
        """The name a union branch is tagged with in Avro JSON."""
        if isinstance(schema, str):
            return schema
        if schema["type"] in ("record", "enum", "fixed"):
            ns = schema.get("namespace", "")
            return f"{ns}.{schema['name']}" if ns and "." not in schema["name"] else schema["name"]
        return str(schema["type"])

    def convert(self, schema: Any, value: Any) -> Any:
        """Convert ``value`` (as the pydantic model holds it) to the Avro JSON of ``schema``."""
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return self._union(schema, value)
        if isinstance(schema, str):
            schema = {"type": schema}
        kind = schema["type"]
        logical = schema.get("logicalType")
        if kind == "record":
            return {f["name"]: self.convert(f["type"], getattr(value, f["name"])) for f in schema["fields"]}
        if kind == "array":
            return [self.convert(schema["items"], v) for v in value]
        if kind == "map":
            return {k: self.convert(schema["values"], v) for k, v in value.items()}
        if kind == "enum":
            return value.value if isinstance(value, Enum) else str(value)
        if logical == "uuid" and kind == "string":
            return str(uuid.UUID(str(value)))
        if logical == "date" and kind == "int":
            return (value - EPOCH_DAY).days
        if logical == "timestamp-millis" and kind == "long":
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value}: timestamp-millis is UTC")
            return (value - EPOCH) // dt.timedelta(milliseconds=1)
        if logical == "decimal" and kind == "bytes":
            return unscaled_bytes(value, schema.get("scale", 0)).decode("latin-1")
        if logical is not None:
            raise NotImplementedError(f"logical type {logical} on {kind}")
        if kind == "bytes":
            return bytes(value).decode("latin-1")
        if kind in PRIMITIVES:
            return value
        raise NotImplementedError(f"schema type {kind}")

    def _union(self, branches: list[Any], value: Any) -> Any:
        if value is None:
            if "null" not in branches:
                raise ValueError(f"None for a union without null: {branches}")
            return None
        candidates = [self.resolve(b) for b in branches if b != "null"]
        if isinstance(value, AvroModel):
            # A record value picks its branch by name, as the payload union needs.
            candidates = [b for b in candidates if self.branch_name(b) == value.AVRO_NAME]
        if len(candidates) != 1:
            raise ValueError(f"cannot choose a branch of {branches} for {value!r}")
        branch = candidates[0]
        return {self.branch_name(branch): self.convert(branch, value)}


def golden_events() -> list[CaseEvent]:
    """The example of every event type (index 0), then one with a validation warning (index 1).

    Index-0 examples have no ``validation_warnings``; the extra one puts a ``ValidationFinding`` on the wire too.
    The Java tool keys it ``NON_RETURN_RECORDED.1``, as the tests expect.
    """
    return [*examples.all_events(), examples.event(EventType.NON_RETURN_RECORDED, index=1)]


def main() -> None:
    """Print one ``CaseEvent`` per line as compact Avro JSON."""
    converter = AvroJson(read_named_types())
    for event in golden_events():
        line = converter.convert(ROOT_TYPE, event)
        # ASCII-only output: decimal bytes become \\u00XX escapes that survive any editor.
        sys.stdout.write(json.dumps(line, ensure_ascii=True, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
