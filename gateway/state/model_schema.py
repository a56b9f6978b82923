"""Avro schemas of state values written as small pydantic models, and their codecs.

A state value that is a tree of frozen pydantic models with plain fields (text, numbers, flags, dates, instants,
``Literal`` codes, optional values and tuples of these or of further models) has one obvious Avro form. Deriving
it keeps the model and the schema from drifting apart; the derived schema is still committed under
``schemas/avro/<folder>/`` and released through the evolution gate like every other schema, and a test compares the
committed files with the derivation, so a model change that would break stored values is caught before it ships.

``Literal`` codes become Avro strings rather than enums: a code added later is then a compatible change, and a
reader validates it through the model.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from gateway.state.codec import AvroValueCodec

__all__ = ["avro_named_types", "model_codec", "write_schema_files"]

M = TypeVar("M", bound=BaseModel)


def avro_named_types(model: type[BaseModel], namespace: str) -> dict[str, dict[str, Any]]:
    """Full name -> Avro definition of ``model`` and every model it holds, each record once.

    Raises:
        TypeError: A field type with no obvious Avro form.
    """
    out: dict[str, dict[str, Any]] = {}
    _record(model, namespace, out)
    return out


def _record(model: type[BaseModel], namespace: str, out: dict[str, dict[str, Any]]) -> str:
    full = f"{namespace}.{model.__name__}"
    if full in out:
        return full
    out[full] = {}  # reserve the name first: a model may refer to itself through a tuple
    fields = []
    for name, info in model.model_fields.items():
        avro_type = _type(info.annotation, namespace, out, f"{model.__name__}.{name}")
        field: dict[str, Any] = {"name": name, "type": avro_type}
        if info.description:
            field["doc"] = info.description
        if not info.is_required():
            field["default"] = _default(info.get_default(call_default_factory=True), avro_type)
        fields.append(field)
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    out[full] = {"type": "record", "name": model.__name__, "namespace": namespace, "doc": doc, "fields": fields}
    return full


def _type(annotation: Any, namespace: str, out: dict[str, dict[str, Any]], where: str) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1 or len(args) != 2:
            raise TypeError(f"{where}: only X | None unions have an Avro form here")
        return ["null", _type(rest[0], namespace, out, where)]
    if origin is typing.Literal:
        if not all(isinstance(a, str) for a in args):
            raise TypeError(f"{where}: only Literal codes of text")
        return "string"
    if origin in (tuple, list):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise TypeError(f"{where}: tuples must be tuple[X, ...]")
        return {"type": "array", "items": _type(args[0], namespace, out, where)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _record(annotation, namespace, out)
    simple = {
        str: "string",
        bool: "boolean",
        int: "long",
        float: "double",
        bytes: "bytes",
        dt.datetime: {"type": "long", "logicalType": "timestamp-millis"},
        dt.date: {"type": "int", "logicalType": "date"},
    }
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"{where}: no Avro form for {annotation!r}")


def _default(value: Any, avro_type: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple | list):
        if value:
            raise TypeError("only empty tuples can be Avro defaults here")
        return []
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"no Avro default for {value!r} ({avro_type})")


def write_schema_files(model: type[BaseModel], namespace: str, folder: Path) -> list[Path]:
    """Write one ``<full name>.avsc`` per named type of ``model`` (the house layout of ``schemas/avro``)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for full, definition in avro_named_types(model, namespace).items():
        path = folder / f"{full}.avsc"
        path.write_text(json.dumps(definition, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def model_codec(
    model: type[M], schema_dir: Path, root: str, history: typing.Iterable[dict[str, Any]] = ()
) -> AvroValueCodec[M]:
    """A single-object codec of ``model`` values with the committed schema of ``root`` in ``schema_dir``."""
    return AvroValueCodec(
        schema_dir,
        root,
        to_avro=lambda v: v.model_dump(),
        from_avro=model.model_validate,
        history=history,
    )
