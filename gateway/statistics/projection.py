"""The statistics' projected read: only the fields the facts need, folded from plain records.

A full decode builds every field of every event (``EventCodec.decode``), while the facts (``facts.fold_into``) read
a handful: the envelope's type, Member State and subject key, and a few fields of ``ReturnDecisionIssued`` and
``DepartureConfirmed``. Here the reader schema is the current canonical schema cut down to those fields (every other
payload branch becomes an empty record of the same name), so fastavro's schema resolution skips the rest of the
bytes without building them, and the facts are folded from the records it returns, without models.

The answer is the same as the full path's: the writer schema is found by the fingerprint in the header (the store
holds every released version) and resolved to the cut-down current schema exactly as the full path resolves it to
the whole one, so a field missing in an older writer gets the current default, a renamed one is found by its alias
and an unknown enum symbol becomes the enum's default. The envelope's check that ``event_type`` names the payload's
type is kept. Confluent-framed messages (written through a schema registry) take the full path.

What the full path checks and this one does not: the bytes of skipped fields are stepped over, not decoded, so a
skipped string that is not valid UTF-8 is not noticed (the Avro lengths still are).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import partial
from typing import Any, cast

from fastavro import schemaless_reader
from fastavro.schema import parse_schema

from gateway.codec.codec import CONFLUENT_MAGIC, EventCodec
from gateway.codec.single_object import HEADER_LEN, MAGIC, SchemaStore
from gateway.errors import DecodeError
from gateway.events import models as m
from gateway.statistics.facts import Decision, Departure, Facts, PersonFacts, fold_into

__all__ = ["NEEDED", "ProjectedReader", "project"]

_EVENT = m.CaseEvent.AVRO_NAME
_DECISION = m.ReturnDecisionIssued.AVRO_NAME
_DEPARTURE = m.DepartureConfirmed.AVRO_NAME

NEEDED: dict[str, frozenset[str]] = {
    _EVENT: frozenset({"event_type", "member_state", "subject_key", "payload"}),
    _DECISION: frozenset(
        {"decision_reference", "decision_date", "unaccompanied_minor", "identity"},
    ),
    m.Identity.AVRO_NAME: frozenset({"nationalities", "sex", "date_of_birth"}),
    _DEPARTURE: frozenset(
        {
            "departed_at",
            "evidence",
            "return_type",
            "assisted",
            "destination_country",
            "decision_reference",
            "dublin_transfer",
        }
    ),
}
"""Fields kept per record type (full Avro name); a record type not listed keeps all its fields (``PartialDate``)."""

_PAYLOADS = frozenset({_DECISION, _DEPARTURE})
_TYPE_OF: dict[str, str] = {model.AVRO_NAME: str(t) for model, t in m.EVENT_TYPE_OF.items()}
"""The ``event_type`` each payload record must come with (the envelope's check on the full path)."""
_NAMED = frozenset({"record", "enum", "fixed", "error"})
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _catalog(schema: Any, out: dict[str, dict[str, Any]]) -> None:
    """Every named type's definition in a parsed schema (which defines each at its first use)."""
    if isinstance(schema, list):
        for s in schema:
            _catalog(s, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in _NAMED:
            out.setdefault(schema["name"], schema)
        if kind in ("record", "error"):
            for f in schema["fields"]:
                _catalog(f["type"], out)
        elif kind == "array":
            _catalog(schema["items"], out)
        elif kind == "map":
            _catalog(schema["values"], out)
        elif isinstance(kind, (dict, list)):
            _catalog(kind, out)


def project(schema: dict[str, Any], needed: dict[str, frozenset[str]] = NEEDED) -> dict[str, Any]:
    """A reader schema: ``schema`` (parsed, full names) with only the ``needed`` fields of the listed records.

    The branches of the root's ``payload`` union other than the two the statistics read become empty records of
    the same name (and aliases), so that the writer's branch still resolves. A named type whose first use is cut
    away is written out at its first remaining use. Fields keep their types, defaults and aliases.
    """
    named: dict[str, dict[str, Any]] = {}
    _catalog(schema, named)
    defined: set[str] = set()

    def walk(t: Any, stub_records: bool = False) -> Any:
        if isinstance(t, list):
            return [walk(s, stub_records) for s in t]
        if isinstance(t, str):
            if t in _PRIMITIVES or t in defined or t not in named:
                return t
            return walk(named[t], stub_records)
        kind = t.get("type")
        if kind in _NAMED:
            name = t["name"]
            if name in defined:
                return name
            defined.add(name)
        if kind in ("record", "error"):
            out = {k: v for k, v in t.items() if k not in ("fields", "doc") and not k.startswith("__")}
            if stub_records and t["name"] not in _PAYLOADS:
                out["fields"] = []
                return out
            keep = needed.get(t["name"])
            out["fields"] = [
                {**{k: v for k, v in f.items() if k != "doc"}, "type": walk(f["type"], f["name"] == "payload")}
                for f in t["fields"]
                if keep is None or f["name"] in keep
            ]
            return out
        if kind == "array":
            return {**t, "items": walk(t["items"])}
        if kind == "map":
            return {**t, "values": walk(t["values"])}
        if isinstance(kind, (dict, list)):
            return {**t, "type": walk(kind, stub_records)}
        return {k: v for k, v in t.items() if k != "doc" and not k.startswith("__")}

    return cast(dict[str, Any], walk(schema))


class NotCompilableError(ValueError):
    """A writer schema construct the compiled projection does not read; that schema is read by fastavro."""


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DAYS_SHIFT = dt.date(1970, 1, 1).toordinal()


def _varint_rest(d: bytes, p: int, v: int) -> tuple[int, int]:
    """The rest of an unsigned LEB128 whose first byte ``v`` (> 127) was read; returns (value, next position)."""
    v &= 0x7F
    shift = 7
    while True:
        b = d[p]
        p += 1
        v |= (b & 0x7F) << shift
        if b < 128:
            return v, p
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


_HELPERS: dict[str, Any] = {
    "_varint_rest": _varint_rest,
    "_EPOCH": _EPOCH,
    "_DAYS_SHIFT": _DAYS_SHIFT,
    "_timedelta": dt.timedelta,
    "_fromordinal": dt.date.fromordinal,
}


def _kind(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return "union"
    kind = t["type"]
    return kind if isinstance(kind, str) else _kind(kind)


class _Compiler:
    """Python source that reads single-object bytes of one writer schema into the projected record.

    Every writer field is read or stepped over in order (``p`` is the position in ``d``); the reader's side is
    the projected schema, resolved as fastavro resolves it. Only what the projection keeps is supported on the
    reading side (records, enums, strings, booleans, ints and longs with ``date`` / ``timestamp-millis``, arrays,
    unions); anything else raises ``NotCompilableError``.
    """

    def __init__(self, writer: dict[str, Any], reader: dict[str, Any]) -> None:
        self.writer_named: dict[str, dict[str, Any]] = {}
        self.reader_named: dict[str, dict[str, Any]] = {}
        _catalog(writer, self.writer_named)
        _catalog(reader, self.reader_named)
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self.n = 0
        self.inlining: set[str] = set()

    def var(self, stem: str = "v") -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def bind(self, obj: Any) -> str:
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = obj
        return name

    def emit(self, ind: int, line: str) -> None:
        self.lines.append("    " * ind + line)

    def resolve(self, t: Any, named: dict[str, dict[str, Any]]) -> Any:
        while isinstance(t, str) and t in named:
            t = named[t]
        if isinstance(t, dict) and isinstance(t["type"], (dict, list)):
            return self.resolve(t["type"], named)
        if isinstance(t, dict) and t["type"] in named:
            return self.resolve(t["type"], named)
        return t

    def long(self, ind: int, out: str) -> None:
        self.emit(ind, f"{out} = d[p]")
        self.emit(ind, "p += 1")
        self.emit(ind, f"if {out} > 127:")
        self.emit(ind + 1, f"{out}, p = _varint_rest(d, p, {out})")
        self.emit(ind, f"{out} = ({out} >> 1) ^ -({out} & 1)")

    def skip(self, ind: int, t: Any) -> None:
        t = self.resolve(t, self.writer_named)
        kind = _kind(t)
        if kind == "null":
            return
        if kind == "boolean":
            self.emit(ind, "p += 1")
        elif kind in ("int", "long", "enum"):
            self.emit(ind, "while d[p] > 127:")
            self.emit(ind + 1, "p += 1")
            self.emit(ind, "p += 1")
        elif kind == "float":
            self.emit(ind, "p += 4")
        elif kind == "double":
            self.emit(ind, "p += 8")
        elif kind == "fixed":
            self.emit(ind, f"p += {int(t['size'])}")
        elif kind in ("string", "bytes"):
            n = self.var("n")
            self.emit(ind, f"{n} = d[p]")
            self.emit(ind, f"if {n} < 128:")  # a length under 64: one byte, zig-zagged
            self.emit(ind + 1, f"p += 1 + ({n} >> 1)")
            self.emit(ind, "else:")
            self.emit(ind + 1, f"{n}, p = _varint_rest(d, p + 1, {n})")
            self.emit(ind + 1, f"p += ({n} >> 1) ^ -({n} & 1)")
        elif kind in ("record", "error"):
            self.enter(t["name"])
            for f in t["fields"]:
                self.skip(ind, f["type"])
            self.inlining.discard(t["name"])
        elif kind in ("array", "map"):
            n = self.var("n")
            self.emit(ind, "while True:")
            self.long(ind + 1, n)
            self.emit(ind + 1, f"if {n} == 0:")
            self.emit(ind + 2, "break")
            self.emit(ind + 1, f"if {n} < 0:")  # a block with its size in bytes: stepped over whole
            size = self.var("s")
            self.long(ind + 2, size)
            self.emit(ind + 2, f"p += {size}")
            self.emit(ind + 2, "continue")
            self.emit(ind + 1, f"for _ in range({n}):")
            self.emit(ind + 2, "pass")
            if kind == "map":
                self.skip(ind + 2, "string")
            self.skip(ind + 2, t["items"] if kind == "array" else t["values"])
        elif kind == "union":
            i = self.union_index(ind, t)
            for idx, branch in enumerate(t):
                self.emit(ind, f"{'if' if idx == 0 else 'elif'} {i} == {2 * idx}:")
                self.emit(ind + 1, "pass")
                self.skip(ind + 1, branch)
            self.emit(ind, "else:")
            self.emit(ind + 1, f"raise ValueError(f'union index {{{i}}} out of range')")
        else:
            raise NotCompilableError(f"cannot step over {kind}")

    def union_index(self, ind: int, union: list[Any]) -> str:
        """Read a union's branch index as its zig-zagged byte (``2 * index``): unions have under 64 branches."""
        if len(union) > 63:
            raise NotCompilableError("a union of more than 63 branches")
        i = self.var("i")
        self.emit(ind, f"{i} = d[p]")
        self.emit(ind, "p += 1")
        return i

    def enter(self, name: str) -> None:
        if name in self.inlining:
            raise NotCompilableError(f"recursive type {name}")
        self.inlining.add(name)

    def read(self, ind: int, wt: Any, rt: Any, out: str) -> None:
        """Code that reads a writer value of ``wt`` resolved to ``rt`` into the variable ``out``."""
        logical = wt.get("logicalType") if isinstance(wt, dict) else None
        wt = self.resolve(wt, self.writer_named)
        rt = self.resolve(rt, self.reader_named)
        wk, rk = _kind(wt), _kind(rt)
        if wk == "union":
            i = self.union_index(ind, wt)
            for idx, branch in enumerate(wt):
                self.emit(ind, f"{'if' if idx == 0 else 'elif'} {i} == {2 * idx}:")
                self.emit(ind + 1, "pass")
                self.read_branch(ind + 1, branch, rt, out)
            self.emit(ind, "else:")
            self.emit(ind + 1, f"raise ValueError(f'union index {{{i}}} out of range')")
            return
        if rk == "union":
            self.read_branch(ind, wt, rt, out)
            return
        if wk == "null" and rk == "null":
            self.emit(ind, f"{out} = None")
        elif wk == "boolean" and rk == "boolean":
            self.emit(ind, f"{out} = d[p] != 0")
            self.emit(ind, "p += 1")
        elif wk == rk == "int" or (wk in ("int", "long") and rk == "long"):  # int is promoted to long
            self.long(ind, out)
            if logical == "date":
                self.emit(ind, f"{out} = _fromordinal({out} + _DAYS_SHIFT)")
            elif logical == "timestamp-millis":
                self.emit(ind, f"{out} = _EPOCH + _timedelta(microseconds={out} * 1000)")
            elif logical is not None:
                raise NotCompilableError(f"logical type {logical}")
        elif wk == "string" and rk == "string" and logical is None:
            n = self.var("n")
            self.long(ind, n)
            self.emit(ind, f"{out} = d[p:p + {n}].decode()")
            self.emit(ind, f"p += {n}")
        elif wk == "enum" and rk == "enum":
            if not self.same_name(wt, rt):
                raise NotCompilableError(f"enum {wt['name']} read as {rt['name']}")
            default = rt.get("default")
            table = tuple(s if s in rt["symbols"] else default for s in wt["symbols"])
            if None in table:
                raise NotCompilableError(f"enum {wt['name']}: a symbol the reader lacks and no default")
            if len(table) > 64:
                raise NotCompilableError(f"enum {wt['name']}: more than 64 symbols")
            # keyed by the zig-zagged byte (2 * index): a byte that is no symbol's raises KeyError
            self.emit(ind, f"{out} = {self.bind({2 * k: v for k, v in enumerate(table)})}[d[p]]")
            self.emit(ind, "p += 1")
        elif wk == "array" and rk == "array":
            n, item = self.var("n"), self.var("x")
            self.emit(ind, f"{out} = []")
            self.emit(ind, "while True:")
            self.long(ind + 1, n)
            self.emit(ind + 1, f"if {n} == 0:")
            self.emit(ind + 2, "break")
            self.emit(ind + 1, f"if {n} < 0:")
            size = self.var("s")
            self.emit(ind + 2, f"{n} = -{n}")
            self.long(ind + 2, size)
            self.emit(ind + 1, f"for _ in range({n}):")
            self.read(ind + 2, wt["items"], rt["items"], item)
            self.emit(ind + 2, f"{out}.append({item})")
        elif wk in ("record", "error") and rk in ("record", "error"):
            if not self.same_name(wt, rt):
                raise NotCompilableError(f"record {wt['name']} read as {rt['name']}")
            self.record(ind, wt, rt, out)
        else:
            raise NotCompilableError(f"{wk} read as {rk}")

    def same_name(self, wt: dict[str, Any], rt: dict[str, Any]) -> bool:
        return bool(wt["name"] == rt["name"] or wt["name"] in rt.get("aliases", ()))

    def read_branch(self, ind: int, wt: Any, rt: Any, out: str) -> None:
        """A writer (non-union) value read into a reader union: its first matching branch, as fastavro picks."""
        wt_r = self.resolve(wt, self.writer_named)
        if _kind(rt) != "union":
            self.read(ind, wt, rt, out)
            return
        wk = _kind(wt_r)
        for branch in rt:
            b = self.resolve(branch, self.reader_named)
            bk = _kind(b)
            if wk in ("record", "error", "enum", "fixed"):
                if bk == wk and self.same_name(wt_r, b):
                    if bk in ("record", "error"):  # as fastavro's return_record_name: (reader's name, record)
                        body = self.var("r")
                        self.read(ind, wt, branch, body)
                        self.emit(ind, f"{out} = ({b['name']!r}, {body})")
                    else:
                        self.read(ind, wt, branch, out)
                    return
            elif bk == wk or (wk == "int" and bk == "long"):
                self.read(ind, wt, branch, out)
                return
        raise NotCompilableError(f"no reader branch for {wk}")

    def record(self, ind: int, wt: dict[str, Any], rt: dict[str, Any], out: str) -> None:
        self.enter(wt["name"])
        by_name: dict[str, dict[str, Any]] = {}
        for f in rt["fields"]:
            by_name[f["name"]] = f
            for alias in f.get("aliases", ()):
                by_name.setdefault(alias, f)
        values: dict[str, str] = {}
        for f in wt["fields"]:
            rf = by_name.get(f["name"])
            if rf is None or rf["name"] in values:
                self.skip(ind, f["type"])
                continue
            v = self.var()
            self.read(ind, f["type"], rf["type"], v)
            values[rf["name"]] = v
        for f in rt["fields"]:
            if f["name"] not in values:
                if "default" not in f:
                    raise NotCompilableError(f"{rt['name']}.{f['name']}: not written and no default")
                values[f["name"]] = f"{self.bind(f['default'])}"
                if isinstance(f["default"], (list, dict)):
                    values[f["name"]] = f"{values[f['name']]}.copy()"
        self.inlining.discard(wt["name"])
        items = ", ".join(f"{f['name']!r}: {values[f['name']]}" for f in rt["fields"])
        self.emit(ind, f"{out} = {{{items}}}")

    def compile(self, writer: dict[str, Any], reader: dict[str, Any]) -> Callable[[bytes], dict[str, Any]]:
        self.emit(0, "def read(d):")
        self.emit(1, f"p = {HEADER_LEN}")
        self.read(1, writer, reader, "out")
        self.emit(1, "if p > len(d):")
        self.emit(2, "raise ValueError('body shorter than its fields')")
        self.emit(1, "return out")
        source = "\n".join(self.lines) + "\n"
        code = compile(source, "<projected reader>", "exec")
        exec(code, self.namespace)  # noqa: S102 - source generated here from the schemas' names
        fn: Callable[[bytes], dict[str, Any]] = self.namespace["read"]
        return fn


def compile_reader(writer: dict[str, Any], reader: dict[str, Any]) -> Callable[[bytes], dict[str, Any]]:
    """A function reading single-object bytes (header included, not checked) of ``writer`` into ``reader``'s record.

    Raises:
        NotCompilableError: A construct it does not read; use fastavro for that writer.
    """
    return _Compiler(writer, reader).compile(writer, reader)


def _birth(date: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    # As ``facts._birth``: only the parts the precision vouches for.
    p = date["precision"]
    if p == "DAY":
        return date["year"], date["month"], date["day"]
    if p == "MONTH":
        return date["year"], date["month"], None
    if p == "YEAR":
        return date["year"], None, None
    return None, None, None


_UTC = dt.UTC


class ProjectedReader:
    """Reads canonical messages into facts through the projected schema, one compiled reader per writer schema.

    The reader of a writer fingerprint is compiled on its first message (``compile_reader``); a writer schema it
    cannot compile is read by fastavro's schema resolution into the same projected schema (slower, same records).

    Args:
        codec: The full path, for Confluent-framed messages; its store gives the writer schemas.
    """

    def __init__(self, codec: EventCodec | None = None) -> None:
        self.codec = codec or EventCodec()
        self.store: SchemaStore = self.codec.store
        self.reader = cast(dict[str, Any], parse_schema(project(self.store.current)))
        self._readers: dict[bytes, Callable[[bytes], dict[str, Any]]] = {}

    def reader_for(self, fp: bytes, *, compiled: bool = True) -> Callable[[bytes], dict[str, Any]]:
        """The function reading single-object bytes written with the schema of fingerprint ``fp``.

        Raises:
            DecodeError: The store holds no schema of that fingerprint.
        """
        found = self._readers.get(fp) if compiled else None
        if found is None:
            writer = self.store.get(fp)
            if writer is None:
                raise DecodeError(f"unknown writer schema fingerprint {fp.hex()}")
            try:
                if not compiled:
                    raise NotCompilableError("fastavro asked for")
                found = compile_reader(writer, self.reader)
            except NotCompilableError:
                found = partial(_fastavro_read, writer=writer, reader=self.reader)
            if compiled:
                self._readers[fp] = found
        return found

    def read(self, data: bytes, *, compiled: bool = True) -> dict[str, Any]:
        """The projected record of single-object bytes: ``{event_type, member_state, subject_key, payload}``.

        ``payload`` is a ``(full record name, dict)`` pair; the dict is empty for the types the statistics skip.

        Args:
            data: The message value.
            compiled: False: read by fastavro's schema resolution (to compare the two).

        Raises:
            DecodeError: Not single-object framed, an unknown writer schema or a corrupt body.
        """
        if len(data) < HEADER_LEN or data[:2] != MAGIC:
            raise DecodeError("not Avro single-object encoding (expected C3 01 and an 8-byte fingerprint)")
        read = self._readers.get(data[2:HEADER_LEN]) if compiled else None
        if read is None:
            read = self.reader_for(data[2:HEADER_LEN], compiled=compiled)
        try:
            return read(data)
        except Exception as exc:  # IndexError, ValueError, UnicodeDecodeError ... on corrupt bodies
            raise DecodeError(f"corrupt Avro body: {exc}") from exc

    def fold(self, facts: Facts, data: bytes, topic: str = "") -> None:
        """Fold one message value into ``facts``, as ``fold_into(facts, codec.decode(data, trusted=True))`` would.

        Raises:
            DecodeError: The bytes are not a canonical event (as on the full path), or its ``event_type`` does
                not name its payload's type.
        """
        if data and data[0] == CONFLUENT_MAGIC:
            fold_into(facts, self.codec.decode(data, topic, trusted=True))
            return
        fold_record(facts, self.read(data))


def _fastavro_read(data: bytes, *, writer: dict[str, Any], reader: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO(data)
    buf.seek(HEADER_LEN)
    return cast(dict[str, Any], schemaless_reader(buf, writer, reader, return_record_name=True))


def fold_record(facts: Facts, record: dict[str, Any]) -> None:
    """Add the facts of one projected record (see ``ProjectedReader.read``) to ``facts``.

    Raises:
        DecodeError: Its ``event_type`` does not name its payload's type.
    """
    name, p = record["payload"]
    if record["event_type"] != _TYPE_OF.get(name):
        raise DecodeError(f"not a canonical event: event_type {record['event_type']} does not match payload {name}")
    fact: Decision | Departure
    if name == _DECISION:
        ident = p["identity"]
        fact = Decision(
            p["decision_date"],
            p["decision_reference"],
            tuple(map(str.upper, ident["nationalities"])),
            ident["sex"],
            _birth(ident["date_of_birth"]),
            p["unaccompanied_minor"],
        )
    elif name == _DEPARTURE:
        destination = p["destination_country"]
        fact = Departure(
            p["departed_at"].astimezone(_UTC).date(),
            p["decision_reference"],
            p["return_type"],
            p["assisted"],
            destination.upper() if destination else None,
            p["dublin_transfer"],
            frozenset(p["evidence"]),
        )
    else:
        return
    key = (record["member_state"], record["subject_key"])
    person = facts.get(key)
    if person is None:
        person = facts[key] = PersonFacts()
    if name == _DECISION:
        person.decisions.add(cast(Decision, fact))
    else:
        person.departures.add(cast(Departure, fact))
