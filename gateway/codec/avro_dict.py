"""Conversion between the pydantic event models and the values fastavro reads and writes.

Writing goes through a converter compiled once from the schema. It reads model attributes directly (no
``model_dump``) and gives every non-null union value in fastavro's tuple notation ``(branch name, value)``.
The tuple matters for speed: without it fastavro picks a union branch by validating the value against each
branch in turn, which for a ``["null", record]`` field means validating the whole record before writing it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from gateway.codec.schemas import canonical_schema
from gateway.events.models import CaseEvent

Converter = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _branch_name(schema: Any) -> str:
    """The name fastavro matches in tuple notation: a named type's full name, else the primitive type."""
    if isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed"):
            return str(schema["name"])
        return _branch_name(schema["type"])
    return str(schema)


def _compile(schema: Any, named: dict[str, Any]) -> Converter:
    if isinstance(schema, str):
        if schema in named:
            return _compile(named[schema], named)
        return _identity
    if isinstance(schema, list):
        return _compile_union(schema, named)
    kind = schema.get("type")
    if kind == "record":
        named[schema["name"]] = schema
        fields = [(f["name"], _compile(f["type"], named)) for f in schema["fields"]]
        plain = [name for name, conv in fields if conv is _identity]
        converted = [(name, conv) for name, conv in fields if conv is not _identity]

        def record(obj: Any) -> dict[str, Any]:
            out = {name: getattr(obj, name) for name in plain}
            for name, conv in converted:
                out[name] = conv(getattr(obj, name))
            return out

        return record
    if kind == "array":
        item = _compile(schema["items"], named)
        if item is _identity:
            return list
        return lambda values: [item(v) for v in values]
    if kind == "enum":
        named[schema["name"]] = schema
        return _identity
    if isinstance(kind, (dict, list)):
        return _compile(kind, named)
    return _identity


def _compile_union(branches: list[Any], named: dict[str, Any]) -> Converter:
    resolved = [named.get(b, b) if isinstance(b, str) else b for b in branches]
    non_null = [b for b in resolved if b != "null"]
    if len(non_null) == 1:
        name, conv = _branch_name(non_null[0]), _compile(non_null[0], named)
        return lambda v: None if v is None else (name, conv(v))
    # A union of several records: the model's class names its branch.
    convs = {_branch_name(b): _compile(b, named) for b in non_null}

    def union(v: Any) -> Any:
        if v is None:
            return None
        name = v.AVRO_NAME
        return (name, convs[name](v))

    return union


@cache
def _event_converter() -> Converter:
    return _compile(canonical_schema(), {})


def to_avro(event: CaseEvent) -> dict[str, Any]:
    """Return the event as a dict fastavro writes without guessing union branches."""
    out: dict[str, Any] = _event_converter()(event)
    return out


def from_avro(data: dict[str, Any]) -> CaseEvent:
    """Build the event model from a dict read with ``return_record_name=True`` (and its override)."""
    return CaseEvent.model_validate(data)
