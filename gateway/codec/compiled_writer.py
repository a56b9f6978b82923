"""An Avro binary writer compiled from the canonical schema into Python source, writing models directly.

Why: the generic path (model → dict in fastavro's tuple notation → ``schemaless_writer``) walks the schema for every
event and builds an intermediate dict per record; it was the largest single cost of ingestion (about 75 µs of an
event's 250). The compiled writer reads the pydantic models' attributes and appends bytes in straight-line code, one
function per record type, with strings' length prefixes and enum indexes precomputed.

It is an accelerator, not a second authority. It only ever writes what the schema allows and raises on anything
it is not sure about (a wrong type, an integer out of range, a value fastavro would convert in some lenient way);
``EventCodec`` then falls back to fastavro, which either writes the same bytes or explains the error. Tests compare
its output with fastavro's, byte for byte, over generated events of every type and with the Java golden vectors.

Supported: the primitive types, records, enums, arrays, unions of ``null`` and one type, unions of records (the
model's class picks the branch), and the logical types the canonical schema uses (``uuid``, ``date``,
``timestamp-millis``, ``decimal`` on bytes). Any other construct raises ``NotCompilableError`` when compiling; the
codec then uses fastavro alone.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastavro.logical_writers import LOGICAL_WRITERS

Writer = Callable[[Any], bytes]

_prepare_decimal = LOGICAL_WRITERS["bytes-decimal"]

_VARINT_CACHE = 4096
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


class NotCompilableError(ValueError):
    """The schema uses a construct the compiled writer does not support."""


class InvalidDatumError(ValueError):
    """A value the compiled writer will not write; the caller falls back to fastavro for the verdict."""


def _varint(z: int) -> bytes:
    """Unsigned LEB128 of an already zig-zagged value."""
    # Dates take three bytes and millisecond instants six: unrolled, those cost a third of the loop below.
    if z < 1 << 21:
        if z < 1 << 7:
            return bytes((z,))
        if z < 1 << 14:
            return bytes((z & 0x7F | 0x80, z >> 7))
        return bytes((z & 0x7F | 0x80, z >> 7 & 0x7F | 0x80, z >> 14))
    if (1 << 35) <= z < (1 << 42):
        return bytes(
            (
                z & 0x7F | 0x80,
                z >> 7 & 0x7F | 0x80,
                z >> 14 & 0x7F | 0x80,
                z >> 21 & 0x7F | 0x80,
                z >> 28 & 0x7F | 0x80,
                z >> 35,
            )
        )
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


# Lengths, counts and union/enum indexes are small non-negative longs: their zig-zag encodings are precomputed.
_SMALL: tuple[bytes, ...] = tuple(_varint(n << 1) for n in range(_VARINT_CACHE))


def _zigzag(n: int) -> bytes:
    if 0 <= n < _VARINT_CACHE:
        return _SMALL[n]
    return _varint((n << 1) ^ (n >> 63))


def _long(n: Any) -> bytes:
    # bool is an int subclass that fastavro would also write; the exact-type test keeps the fast path strict.
    if type(n) is not int or not _LONG_MIN <= n <= _LONG_MAX:
        raise InvalidDatumError(f"not an Avro long: {n!r}")
    return _zigzag(n)


def _int(n: Any) -> bytes:
    if type(n) is not int or not _INT_MIN <= n <= _INT_MAX:
        raise InvalidDatumError(f"not an Avro int: {n!r}")
    return _zigzag(n)


def _length(n: int) -> bytes:
    return _SMALL[n] if n < _VARINT_CACHE else _varint(n << 1)


def _timestamp_millis(v: Any) -> bytes:
    if type(v) is not dt.datetime or v.tzinfo is None:
        # fastavro reads a naive datetime in the machine's local zone; leave that (and ints) to it.
        raise InvalidDatumError(f"not an aware datetime: {v!r}")
    delta = v - _EPOCH
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    # Any datetime is within ±2**48 ms of the epoch, so no range check; zig-zag inlined: 3 calls fewer per instant.
    return _varint((ms << 1) ^ (ms >> 63))


def _date(v: Any) -> bytes:
    if type(v) is not dt.date:
        raise InvalidDatumError(f"not a date: {v!r}")
    days = v.toordinal() - _EPOCH_ORDINAL  # within ±2**22: always an Avro int
    return _varint((days << 1) ^ (days >> 63))


def _uuid(v: Any) -> bytes:
    if type(v) is not uuid.UUID:
        raise InvalidDatumError(f"not a UUID: {v!r}")
    return _SMALL[36] + str(v).encode()


def _decimal_bytes(schema: dict[str, Any]) -> Callable[[Any], bytes]:
    # fastavro's own conversion, so that the bytes (including its sign padding) are the ones it writes.
    def write(v: Any) -> bytes:
        if type(v) is not decimal.Decimal:
            raise InvalidDatumError(f"not a Decimal: {v!r}")
        raw: bytes = _prepare_decimal(v, schema)
        return _length(len(raw)) + raw

    return write


def _fn_name(full_name: str) -> str:
    return "w_" + full_name.replace(".", "_")


class _Compiler:
    """Emits one function per named record; helpers and tables go into the namespace the code runs in."""

    def __init__(self) -> None:
        self.named: dict[str, Any] = {}
        self.functions: dict[str, list[str]] = {}
        self.namespace: dict[str, Any] = {
            "_long": _long,
            "_int": _int,
            "_length": _length,
            "_S": _SMALL,
            "_SN": _VARINT_CACHE,
            "_ts_ms": _timestamp_millis,
            "_date": _date,
            "_uuid": _uuid,
            "Invalid": InvalidDatumError,
        }
        self._counter = 0
        self.dispatch_tables: list[str] = []

    def const(self, prefix: str, value: Any) -> str:
        self._counter += 1
        name = f"_{prefix}{self._counter}"
        self.namespace[name] = value
        return name

    def record(self, schema: dict[str, Any]) -> str:
        name = schema["name"]
        fn = _fn_name(name)
        if name in self.named:
            return fn
        self.named[name] = schema
        self.functions[fn] = []  # reserved before the fields, so recursive references terminate
        body: list[str] = []
        for index, field in enumerate(schema["fields"]):
            var = f"f{index}"
            body.append(f"{var} = o.{field['name']}")
            body.extend(self.value(field["type"], var, depth=0))
        self.functions[fn] = [f"def {fn}(o, a):", *("    " + line for line in body or ["pass"])]
        return fn

    def resolve(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema in self.named:
            return self.named[schema]
        return schema

    def value(self, schema: Any, var: str, depth: int) -> list[str]:
        """Lines that append the encoding of ``var`` (of type ``schema``) to the bytearray ``a``."""
        schema = self.resolve(schema)
        if isinstance(schema, list):
            return self.union(schema, var, depth)
        if isinstance(schema, str):
            return self.primitive(schema, var)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None:
            return self.logical(schema, logical, var)
        if kind == "record":
            return [f"{self.record(schema)}({var}, a)"]
        if kind == "enum":
            self.named[schema["name"]] = schema
            table = self.const("enum", {symbol: _SMALL[i] for i, symbol in enumerate(schema["symbols"])})
            return [f"a += {table}[{var}]"]
        if kind == "array":
            item = f"i{depth}"
            return [
                f"if {var}:",
                f"    a += _length(len({var}))",
                f"    for {item} in {var}:",
                *("        " + line for line in self.value(schema["items"], item, depth + 1)),
                "a += b'\\x00'",
            ]
        if isinstance(kind, (str, list, dict)) and kind not in ("map", "fixed"):
            return self.value(kind, var, depth)
        raise NotCompilableError(f"unsupported Avro type {kind!r}")

    def primitive(self, kind: str, var: str) -> list[str]:
        if kind == "null":
            return [f"if {var} is not None: raise Invalid('expected null')"]
        if kind == "boolean":
            return [
                f"if {var} is True: a += b'\\x01'",
                f"elif {var} is False: a += b'\\x00'",
                "else: raise Invalid('expected a boolean')",
            ]
        if kind == "int":
            return [f"a += _int({var})"]
        if kind == "long":
            return [f"a += _long({var})"]
        if kind == "string":
            # str.encode is strict UTF-8, as fastavro's is; a non-str has no encode (bytes) or must not pass.
            return [
                f"if not isinstance({var}, str): raise Invalid('expected a string')",
                f"b = {var}.encode()",
                "n = len(b)",
                "a += _S[n] if n < _SN else _length(n)",
                "a += b",
            ]
        if kind == "bytes":
            return [
                f"if type({var}) is not bytes: raise Invalid('expected bytes')",
                f"a += _length(len({var}))",
                f"a += {var}",
            ]
        raise NotCompilableError(f"unsupported Avro type {kind!r}")

    def logical(self, schema: dict[str, Any], logical: str, var: str) -> list[str]:
        kind = schema["type"]
        if logical == "timestamp-millis" and kind == "long":
            return [f"a += _ts_ms({var})"]
        if logical == "date" and kind == "int":
            return [f"a += _date({var})"]
        if logical == "uuid" and kind == "string":
            return [f"a += _uuid({var})"]
        if logical == "decimal" and kind == "bytes":
            return [f"a += {self.const('dec', _decimal_bytes(schema))}({var})"]
        raise NotCompilableError(f"unsupported logical type {logical!r} on {kind!r}")

    def union(self, branches: list[Any], var: str, depth: int) -> list[str]:
        resolved = [self.resolve(b) for b in branches]
        null_index = next((i for i, b in enumerate(resolved) if b == "null"), None)
        others = [(i, b) for i, b in enumerate(resolved) if b != "null"]
        lines: list[str] = []
        if null_index is not None:
            lines += [f"if {var} is None:", f"    a += {_SMALL[null_index]!r}", "else:"]
            indent = "    "
        else:
            indent = ""
        if len(others) == 1:
            index, branch = others[0]
            body = [f"a += {_SMALL[index]!r}", *self.value(branch, var, depth)]
        elif all(isinstance(b, dict) and b.get("type") == "record" for _, b in others):
            # The model's class names its branch, as in avro_dict; an unknown class is a KeyError → fallback.
            table: dict[str, tuple[bytes, str]] = {}
            for index, branch in others:
                fn = self.record(branch)
                table[branch["name"]] = (_SMALL[index], fn)
            dispatch = self.const("union", table)
            self.dispatch_tables.append(dispatch)
            body = [f"tag, fn = {dispatch}[{var}.AVRO_NAME]", "a += tag", f"fn({var}, a)"]
        else:
            raise NotCompilableError(f"unsupported union {branches!r}")
        return lines + [indent + line for line in body]

    def source(self) -> str:
        return "\n\n".join("\n".join(lines) for lines in self.functions.values()) + "\n"


def compile_source(schema: dict[str, Any]) -> str:
    """The Python source the writer for a parsed record schema runs (for reading and debugging)."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise NotCompilableError("the root of the schema must be a record")
    compiler = _Compiler()
    compiler.record(schema)
    return compiler.source()


def compile_writer(schema: dict[str, Any]) -> Writer:
    """A function that encodes a model of ``schema`` (a fastavro-parsed record schema) into Avro binary.

    Raises:
        NotCompilableError: The schema uses a construct this writer does not support.
    """
    compiler = _Compiler()
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise NotCompilableError("the root of the schema must be a record")
    root = compiler.record(schema)
    namespace = compiler.namespace
    exec(compile(compiler.source(), "<avro compiled writer>", "exec"), namespace)  # noqa: S102 - generated here
    # Union dispatch tables name their branch functions; now that they exist, point at them directly.
    for table in compiler.dispatch_tables:
        namespace[table] = {name: (tag, namespace[fn]) for name, (tag, fn) in namespace[table].items()}
    write_root = namespace[root]

    def write(obj: Any) -> bytes:
        out = bytearray()
        write_root(obj, out)
        return bytes(out)

    return write


class WriterCache:
    """Compiled writers by writer-schema fingerprint, at most ``size`` of them, least recently used dropped first.

    Compiling the canonical schema's writer takes about 5 ms; every ``EventCodec`` of a process writes with the
    same schema, so they share one writer. Thread-safe: two threads asking for the same schema at once may both
    compile it, and one of the (equal) writers is kept.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._writers: OrderedDict[bytes, Writer] = OrderedDict()

    def get(self, fingerprint: bytes, schema: dict[str, Any]) -> Writer:
        """The writer of ``schema`` (whose fingerprint is ``fingerprint``), compiled on first use.

        Raises:
            NotCompilableError: The schema uses a construct the compiled writer does not support (not cached:
                the caller falls back to fastavro, which costs nothing to set up).
        """
        with self._lock:
            found = self._writers.get(fingerprint)
            if found is not None:
                self._writers.move_to_end(fingerprint)
                return found
        # Compiled outside the lock: a slow compile of one schema must not hold up readers of another.
        written = compile_writer(schema)
        with self._lock:
            found = self._writers.setdefault(fingerprint, written)
            self._writers.move_to_end(fingerprint)
            while len(self._writers) > self._size:
                self._writers.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._writers)


# The process's shared writers: bounded (the current schema, and a few more for tests or tools that encode with
# another one), and a writer is a pure function of its schema, so sharing one changes no result.
WRITERS = WriterCache()
