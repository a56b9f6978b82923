"""The schema evolution gate: FULL_TRANSITIVE compatibility of the current schema with every released version.

Each released version is checked in both directions: BACKWARD (the current schema reads data an old version wrote)
and FORWARD (an old version reads data the current schema writes). Two independent methods must agree:

* **static**: Apache avro's ``ReaderWriterCompatibilityChecker`` decides; its verdict and messages are reported at
  readable paths. avro is used for nothing else (its Parsing Canonical Form differs from fastavro's for logical
  types, so fingerprints always come from fastavro).
* **resolution**: a few hundred random datums that take every union branch and enum symbol of the writer schema are
  written with fastavro and read back with the reader schema; any error is an incompatibility.

A **policy** rule adds what FULL compatibility needs later: every enum has a default, or no symbol can ever be added.
Findings are values; ``CompatReport.ok`` is the verdict.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import avro.errors
import avro.schema
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    lookup_writer_field,
    schema_name_equals,
)
from avro.schema import ArraySchema, MapSchema, RecordSchema, UnionSchema
from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import SchemaParseException, parse_schema

from gateway.codec.schemas import ROOT_TYPE, SCHEMA_DIR
from gateway.evolution.datums import DatumGenerator
from gateway.evolution.history import HISTORY_DIR, Snapshot, expand, fingerprint, load_history

Method = Literal["static", "resolution", "policy", "registry", "schema"]
Direction = Literal["backward", "forward", "current"]
RegistryCheck = Callable[[str], list[str]]
"""Asks a schema registry whether a schema (JSON text) may be registered; returns its incompatibility messages."""

DEFAULT_DATUMS = 300
_MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason the current schema cannot be released.

    Attributes:
        method: What found it: ``static`` (avro's checker), ``resolution`` (reading real data), ``policy``,
            ``registry`` or ``schema`` (the current files do not load).
        direction: ``backward`` (current reads old data), ``forward`` (old reads current data) or ``current``
            (about the current schema alone).
        version: The released version it concerns, or None.
        path: Where: a field path such as ``CaseEvent.payload<EntryRecorded>.gate``, a type name, or datum numbers.
        message: What is wrong, in the words of the tool that found it.
    """

    method: Method
    direction: Direction
    version: int | None
    path: str
    message: str


@dataclass(frozen=True, slots=True)
class CompatReport:
    """The outcome of ``check``.

    Attributes:
        fingerprint: CRC-64-AVRO fingerprint (hex, little-endian) of the current schema; empty if it did not load.
        versions: The released versions checked against.
        datums: Datums requested per writer schema and direction (more are made until every choice is taken).
        findings: Every incompatibility found; none means the current schema may be released.
    """

    fingerprint: str
    versions: tuple[int, ...]
    datums: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether the current schema is FULL_TRANSITIVE compatible and follows the policy."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``gateway schemas check --json``)."""
        return {**asdict(self), "ok": self.ok}


def check(
    schema_dir: Path = SCHEMA_DIR,
    history_dir: Path = HISTORY_DIR,
    *,
    root: str = ROOT_TYPE,
    datums: int = DEFAULT_DATUMS,
    seed: int = 0,
    registry_check: RegistryCheck | None = None,
) -> CompatReport:
    """Check the schemas in ``schema_dir`` against every snapshot in ``history_dir`` (FULL_TRANSITIVE).

    Args:
        schema_dir: The current ``.avsc`` files, one per named type.
        history_dir: Released versions, as written by ``freeze``.
        root: Full name of the root type.
        datums: How many random datums each writer schema writes (more if needed to take every choice).
        seed: Seed of the datum generator.
        registry_check: Optionally also ask a schema registry; called with the current schema as JSON text.

    Returns:
        The report; ``report.ok`` is the verdict.
    """
    history = load_history(history_dir, root)
    versions = tuple(s.version for s in history)
    try:
        current = expand(schema_dir, root)
        current_fp = fingerprint(current)
        current_avro = avro.schema.parse(json.dumps(current))
    except (ValueError, KeyError, TypeError, SchemaParseException, avro.errors.AvroException) as exc:
        finding = Finding("schema", "current", None, root, f"the current schema does not load: {exc!r}")
        return CompatReport("", versions, datums, (finding,))
    findings = list(enum_default_findings(current))
    findings += _versus_history(current, current_avro, history, datums, seed)
    if registry_check is not None:
        findings += _registry_findings(registry_check, current)
    return CompatReport(current_fp, versions, datums, tuple(findings))


def enum_default_findings(schema: dict[str, Any]) -> Iterator[Finding]:
    """Policy: every enum names a default among its symbols, so that symbols can be added (FORWARD) later."""
    for enum in _walk_named(schema):
        if enum["type"] != "enum":
            continue
        name = _full_name(enum)
        default = enum.get("default")
        if default is None:
            yield Finding("policy", "current", None, name, "enum has no default: no symbol can ever be added")
        elif default not in enum["symbols"]:
            yield Finding("policy", "current", None, name, f"enum default {default!r} is not one of its symbols")


def _versus_history(
    current: dict[str, Any], current_avro: avro.schema.Schema, history: list[Snapshot], datums: int, seed: int
) -> list[Finding]:
    findings: list[Finding] = []
    current_parsed = _parsed(current)
    current_data = DatumGenerator(current_parsed, seed).datums(datums)
    for snap in history:
        old_avro = avro.schema.parse(json.dumps(snap.schema))
        old_parsed = _parsed(snap.schema)
        old_data = DatumGenerator(old_parsed, seed).datums(datums)
        v = snap.version
        findings += static_findings(current_avro, old_avro, "backward", v)
        findings += static_findings(old_avro, current_avro, "forward", v)
        findings += resolution_findings(old_parsed, current_parsed, old_data, "backward", v)
        findings += resolution_findings(current_parsed, old_parsed, current_data, "forward", v)
    return findings


def static_findings(
    reader: avro.schema.Schema, writer: avro.schema.Schema, direction: Direction, version: int | None
) -> list[Finding]:
    """Apache avro's verdict on a reader/writer pair, with its messages placed at field paths."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro leaves __init__ unannotated
    problems: list[tuple[str, str]] = []
    _descend(checker, reader, writer, _short(reader), problems, set())
    root = checker.get_compatibility(reader, writer)
    if not problems and _incompatible(root):
        # avro's own locations restart at every union branch, so they are a fallback only
        problems.append(("/".join(sorted(root.locations)), _avro_message(root)))
    return [Finding("static", direction, version, path, message) for path, message in problems]


def _descend(
    checker: ReaderWriterCompatibilityChecker,
    reader: avro.schema.Schema,
    writer: avro.schema.Schema,
    path: str,
    out: list[tuple[str, str]],
    seen: set[tuple[int, int]],
) -> None:
    """Follow avro's verdict down to the innermost incompatible place, naming fields and union branches."""
    result = checker.get_compatibility(reader, writer)
    if not _incompatible(result) or (id(reader), id(writer)) in seen:
        return
    seen.add((id(reader), id(writer)))
    if isinstance(reader, RecordSchema) and isinstance(writer, RecordSchema) and schema_name_equals(reader, writer):
        for reader_field in reader.fields:
            writer_field = lookup_writer_field(writer_schema=writer, reader_field=reader_field)
            where = f"{path}.{reader_field.name}"
            if writer_field is not None:
                _descend(checker, reader_field.type, writer_field.type, where, out, seen)
            elif not reader_field.has_default:
                out.append((where, "reader_field_missing_default_value: the writer has no such field"))
    elif isinstance(reader, ArraySchema) and isinstance(writer, ArraySchema):
        _descend(checker, reader.items, writer.items, f"{path}[]", out, seen)
    elif isinstance(reader, MapSchema) and isinstance(writer, MapSchema):
        _descend(checker, reader.values, writer.values, f"{path}{{}}", out, seen)
    elif isinstance(writer, UnionSchema):
        for branch in writer.schemas:
            _descend(checker, reader, branch, f"{path}<{_short(branch)}>", out, seen)
    elif isinstance(reader, UnionSchema) and (same := [b for b in reader.schemas if _short(b) == _short(writer)]):
        _descend(checker, same[0], writer, path, out, seen)
    else:
        out.append((path, _avro_message(result)))


def resolution_findings(
    writer: dict[str, Any], reader: dict[str, Any], data: list[Any], direction: Direction, version: int | None
) -> list[Finding]:
    """Write each datum with ``writer``, read it with ``reader``; every distinct error is a finding.

    Args:
        writer: The writer schema, parsed by fastavro.
        reader: The reader schema, parsed by fastavro.
        data: Datums valid for ``writer`` (see ``gateway.evolution.datums``).
        direction: Which direction this pair is, for the report.
        version: The released version involved.
    """
    failed: dict[str, list[int]] = {}
    for index, datum in enumerate(data):
        buf = io.BytesIO()
        schemaless_writer(buf, writer, datum)
        body = buf.getvalue()
        stream = io.BytesIO(body)
        try:
            schemaless_reader(stream, writer, reader)
            # a reader that stops early resolved the bytes against the wrong structure
            error = "" if stream.tell() == len(body) else f"read {stream.tell()} of {len(body)} bytes"
        except Exception as exc:  # any resolution error, whatever fastavro raises, means incompatible
            error = f"{type(exc).__name__}: {_summarise(str(exc))}"
        if error:
            failed.setdefault(error, []).append(index)
    root = _short_name(str(writer.get("name", writer.get("type"))))
    return [
        Finding("resolution", direction, version, _datums_path(root, data, indexes), message)
        for message, indexes in failed.items()
    ]


def _registry_findings(registry_check: RegistryCheck, current: dict[str, Any]) -> list[Finding]:
    try:
        messages = registry_check(json.dumps(current))
    except Exception as exc:  # an unanswered registry must not let the gate pass silently
        messages = [f"the registry did not answer: {exc!r}"]
    return [Finding("registry", "current", None, "registry", m) for m in messages]


def _parsed(schema: dict[str, Any]) -> dict[str, Any]:
    return cast(dict[str, Any], parse_schema(schema))


def _incompatible(result: SchemaCompatibilityResult) -> bool:
    return result.compatibility is SchemaCompatibilityType.incompatible


def _avro_message(result: SchemaCompatibilityResult) -> str:
    kinds = ", ".join(sorted({k.value for k in result.incompatibilities}))
    return f"{kinds}: {'; '.join(sorted(result.messages))}"


def _short(schema: avro.schema.Schema) -> str:
    """A schema's label in a path: the unqualified name of a named type, else its type."""
    name = getattr(schema, "name", None)
    return name if isinstance(name, str) else str(schema.type)


def _datums_path(root: str, data: list[Any], indexes: list[int]) -> str:
    """Which datums failed, and through which top-level union branches if only some of them fail."""
    branches = _top_branches([data[i] for i in indexes])
    where = root
    if branches and branches != _top_branches(data) and len(branches) <= 3:
        where = " | ".join(f"{root}.{b}" for b in sorted(branches))
    shown = ", ".join(str(i) for i in indexes[:5])
    more = f" +{len(indexes) - 5}" if len(indexes) > 5 else ""
    return f"{where} (datums {shown}{more} of {len(data)})"


def _top_branches(data: list[Any]) -> set[str]:
    """The union branches a record's fields took, as ``field<Branch>``, where written in tuple notation."""
    return {
        f"{name}<{_short_name(value[0])}>"
        for datum in data
        if isinstance(datum, dict)
        for name, value in datum.items()
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
    }


def _short_name(name: str) -> str:
    return name.rpartition(".")[2]


_NAME_IN_REPR = re.compile(r"'name': '([\w.]+)'")


def _summarise(message: str) -> str:
    """Shorten fastavro's mismatch messages, which print both schemas whole, to the type names involved."""
    if len(message) <= _MESSAGE_LIMIT:
        return message
    head, sep, tail = message.partition(" is not ")
    writer_name, reader_name = _NAME_IN_REPR.search(head), _NAME_IN_REPR.search(tail)
    if sep and writer_name and reader_name:
        prefix = head[: head.find("{")] if "{" in head else head[:40]
        return f"{prefix}{writer_name[1]} is not {reader_name[1]}"
    return message[:_MESSAGE_LIMIT] + "..."


def _full_name(named: dict[str, Any]) -> str:
    name = str(named["name"])
    return name if "." in name or "namespace" not in named else f"{named['namespace']}.{name}"


def _walk_named(schema: Any) -> Iterator[dict[str, Any]]:
    """Every named type defined inline in a self-contained schema."""
    if isinstance(schema, list):
        for member in schema:
            yield from _walk_named(member)
    elif isinstance(schema, dict):
        kind = schema["type"]
        if kind in ("record", "enum", "fixed"):
            yield schema
        if kind == "record":
            for f in schema["fields"]:
                yield from _walk_named(f["type"])
        elif kind == "array":
            yield from _walk_named(schema["items"])
        elif kind == "map":
            yield from _walk_named(schema["values"])
        elif isinstance(kind, dict | list):
            yield from _walk_named(kind)
