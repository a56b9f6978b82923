"""Random valid datums for any Avro schema, to prove compatibility by resolving real data.

Deterministic by seed. Every choice the schema offers (each union branch at each place, each enum symbol, empty and
non-empty arrays and maps) is taken in turn the first times it is reached, then at random, and generation goes on
past the requested count until every choice was taken, so the datums exercise every branch a reader must resolve.
Values are the Python values fastavro writes for logical types (``Decimal``, ``UUID``, aware ``datetime``).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any, cast

from fastavro.schema import parse_schema

_INT = (-(2**31), 2**31 - 1)
_LONG = (-(2**63), 2**63 - 1)
_NAMED = frozenset({"record", "enum", "fixed"})
_DEPTH_LIMIT = 32
# Ranges of code points strings are drawn from: ASCII, Latin-1 and Greek, CJK, and non-BMP (emoji, historic scripts)
# because UTF-8 length and surrogate handling are where string codecs break.
_CODE_POINTS = ((0x20, 0x7E), (0xA0, 0x3FF), (0x4E00, 0x9FFF), (0x1F300, 0x1FAFF), (0x10000, 0x1047F))
_CHARS = tuple(chr(c) for low, high in _CODE_POINTS for c in range(low, high + 1, max(1, (high - low) // 200)))


class DatumGenerator:
    """Makes random datums that are valid for one writer schema.

    Args:
        schema: The writer schema, raw JSON values or already parsed by fastavro.
        seed: Seed of the random source; the same seed gives the same datums.
    """

    def __init__(self, schema: Any, seed: int = 0) -> None:
        self.schema = parse_schema(schema)
        self._named: dict[str, dict[str, Any]] = {}
        _collect_named(self.schema, self._named)
        self._rng = random.Random(seed)  # noqa: S311  # test data, reproducible by seed; nothing secret
        self._visits: dict[str, int] = {}
        self._start: dict[str, int] = {}
        self._options: dict[str, list[str]] = {}

    def datums(self, count: int = 300, limit: int | None = None) -> list[Any]:
        """At least ``count`` datums, more (up to ``limit``, default 4 x count) until every choice was taken."""
        limit = 4 * count if limit is None else limit
        out = [self.datum() for _ in range(count)]
        while self.untaken() and len(out) < limit:
            out.append(self.datum())
        return out

    def datum(self) -> Any:
        """One more datum."""
        return self._value(self.schema, _short(_label(self.schema)), 0)

    def untaken(self) -> dict[str, list[str]]:
        """Choices reached fewer times than they have options, with the options not taken yet."""
        missing = {}
        for key, options in self._options.items():
            n = len(options)
            seen = self._visits[key]
            if seen < n:
                start = self._start[key]
                missing[key] = [options[(start + i) % n] for i in range(seen, n)]
        return missing

    def _choose(self, key: str, options: list[str]) -> int:
        """Round-robin from a random start for the first visits (full coverage), then at random."""
        n = len(options)
        if key not in self._visits:
            self._visits[key] = 0
            self._start[key] = self._rng.randrange(n)
            self._options[key] = options
        seen = self._visits[key]
        self._visits[key] = seen + 1
        return (self._start[key] + seen) % n if seen < n else self._rng.randrange(n)

    def _value(self, schema: Any, path: str, depth: int) -> Any:
        if isinstance(schema, list):
            return self._union(schema, path, depth)
        if isinstance(schema, str):
            if schema in self._named:
                return self._value(self._named[schema], path, depth)
            return self._primitive(schema)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None and kind not in ("record", "enum", "array", "map"):
            value = self._logical(schema, logical)
            if value is not None:
                return value
        if kind == "record":
            return {f["name"]: self._value(f["type"], f"{path}.{f['name']}", depth + 1) for f in schema["fields"]}
        if kind == "enum":
            symbols = list(schema["symbols"])
            return symbols[self._choose(f"enum {schema['name']}", symbols)]
        if kind == "fixed":
            return self._rng.randbytes(schema["size"])
        if kind in ("array", "map"):
            return self._collection(schema, path, depth)
        return self._value(kind, path, depth)

    def _union(self, members: list[Any], path: str, depth: int) -> Any:
        labels = [_label(m) for m in members]
        if depth > _DEPTH_LIMIT and "null" in labels:
            return None  # stop a recursive type
        index = self._choose(f"union {path}", labels)
        if labels[index] == "null":
            return None
        value = self._value(members[index], f"{path}<{_short(labels[index])}>", depth + 1)
        if len(members) - labels.count("null") == 1:
            return value  # the only non-null branch: unambiguous, and fastavro's validate wants plain values here
        # fastavro's tuple notation names the branch, so the intended branch is written even where several fit
        return (labels[index], value)

    def _collection(self, schema: dict[str, Any], path: str, depth: int) -> Any:
        kind = schema["type"]
        empty = depth > _DEPTH_LIMIT or self._choose(f"{kind} {path}", ["empty", "non-empty"]) == 0
        size = 0 if empty else self._rng.randint(1, 3)
        if kind == "array":
            return [self._value(schema["items"], f"{path}[]", depth + 1) for _ in range(size)]
        return {self._string(): self._value(schema["values"], f"{path}{{}}", depth + 1) for _ in range(size)}

    def _primitive(self, kind: str) -> Any:
        rng = self._rng
        if kind == "null":
            return None
        if kind == "boolean":
            return rng.random() < 0.5
        if kind in ("int", "long"):
            return self._integer(*(_INT if kind == "int" else _LONG))
        if kind in ("float", "double"):
            return rng.choice((0.0, -1.5, 1e-3, rng.uniform(-1e6, 1e6), rng.uniform(-1e30, 1e30)))
        if kind == "bytes":
            return rng.randbytes(rng.randint(0, 16))
        if kind == "string":
            return self._string()
        raise ValueError(f"unknown Avro type {kind!r}")

    def _integer(self, low: int, high: int) -> int:
        rng = self._rng
        roll = rng.random()
        if roll < 0.2:
            return rng.choice((low, high, 0, -1, 1))
        if roll < 0.6:
            return rng.randint(-1000, 1000)
        return rng.randint(low, high)

    def _string(self) -> str:
        rng = self._rng
        if rng.random() < 0.1:
            return ""
        return "".join(rng.choices(_CHARS, k=rng.randint(1, 12)))

    def _logical(self, schema: dict[str, Any], logical: str) -> Any:
        """A value of a logical type, or None for logical types written as their underlying type."""
        rng = self._rng
        if logical == "decimal":
            precision, scale = int(schema["precision"]), int(schema.get("scale", 0))
            top = 10**precision - 1
            return Decimal(rng.choice((0, top, -top, rng.randint(-top, top)))).scaleb(-scale)
        if logical == "uuid" and schema["type"] == "string":
            return uuid.UUID(int=rng.getrandbits(128))
        if logical == "date":
            return dt.date.fromordinal(self._ordinal())
        if logical in ("time-millis", "time-micros"):
            micros = rng.randrange(86_400_000_000)
            if logical == "time-millis":
                micros -= micros % 1000
            return (dt.datetime.min + dt.timedelta(microseconds=micros)).time()
        if logical in ("timestamp-millis", "timestamp-micros", "local-timestamp-millis", "local-timestamp-micros"):
            micros = rng.randrange(86_400_000_000)
            if logical.endswith("millis"):
                micros -= micros % 1000  # the type keeps milliseconds only
            moment = dt.datetime.fromordinal(self._ordinal()) + dt.timedelta(microseconds=micros)
            return moment if logical.startswith("local") else moment.replace(tzinfo=dt.UTC)
        return None

    def _ordinal(self) -> int:
        """A day within Python's date range (which Avro's int days and long timestamps contain)."""
        rng = self._rng
        epoch = dt.date(1970, 1, 1).toordinal()
        return rng.choice((1, dt.date.max.toordinal(), epoch, rng.randint(1, dt.date.max.toordinal())))


def random_datums(schema: Any, count: int = 300, seed: int = 0) -> list[Any]:
    """Datums valid for ``schema`` that take every choice it offers (see ``DatumGenerator``)."""
    return DatumGenerator(schema, seed).datums(count)


def _label(schema: Any) -> str:
    """The name fastavro's tuple notation uses for a union branch: a named type's full name, else its type."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union"
    kind = schema["type"]
    return cast(str, schema["name"]) if kind in _NAMED else cast(str, kind)


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def _collect_named(schema: Any, named: dict[str, dict[str, Any]]) -> None:
    """Index the named types a parsed schema defines, by full name."""
    if isinstance(schema, list):
        for member in schema:
            _collect_named(member, named)
    elif isinstance(schema, dict):
        kind = schema["type"]
        if kind in _NAMED:
            named[schema["name"]] = schema
        if kind == "record":
            for f in schema["fields"]:
                _collect_named(f["type"], named)
        elif kind == "array":
            _collect_named(schema["items"], named)
        elif kind == "map":
            _collect_named(schema["values"], named)
        elif isinstance(kind, dict | list):
            _collect_named(kind, named)
