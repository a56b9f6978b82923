"""Generate the pydantic models in ``gateway/events/models.py`` from the Avro schemas.

The ``.avsc`` files are the single source of truth; ``gateway schemas codegen`` rewrites the models and a
unit test fails when the committed models differ from what this generator produces. A development tool, kept with
the schema gate on top of the layers (it reads the schemas through the codec), not in ``gateway.events``, which
every layer imports and which imports nothing of the gateway's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.codec.schemas import NAMESPACE, SCHEMA_DIR, read_named_types

MODELS_PATH = Path(__file__).parent.parent / "events" / "models.py"

_PRIMITIVES = {
    "string": "str",
    "int": "int",
    "long": "int",
    "boolean": "bool",
    "double": "float",
    "float": "float",
    "bytes": "bytes",
}
_LOGICAL = {"date": "datetime.date", "timestamp-millis": "AwareDatetime", "uuid": "uuid.UUID"}

_HEADER = '''\
"""Pydantic models of the canonical events. GENERATED from schemas/avro by ``gateway schemas codegen``: do not edit.

The Avro schemas are the source of truth; these models give Python code typed construction and validation.
Models are frozen; arrays are tuples. Enums are ``StrEnum`` so that their values are the Avro symbols.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

AVRO_NAMESPACE = "{ns}"


class AvroModel(BaseModel):
    """Base of every generated record model."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    AVRO_NAME: ClassVar[str]
'''


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _snake_upper(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()


def _annotation(t: Any) -> str:
    if isinstance(t, str):
        return _PRIMITIVES.get(t) or _short(t)
    if isinstance(t, list):
        members = [m for m in t if m != "null"]
        inner = " | ".join(_annotation(m) for m in members)
        return f"{inner} | None" if "null" in t else inner
    if isinstance(t, dict):
        logical = t.get("logicalType")
        if logical == "decimal":
            return f"Annotated[Decimal, Field(max_digits={t['precision']}, decimal_places={t.get('scale', 0)})]"
        if logical in _LOGICAL:
            return _LOGICAL[logical]
        if t["type"] == "array":
            return f"tuple[{_annotation(t['items'])}, ...]"
        return _annotation(t["type"])
    raise TypeError(f"unsupported Avro type {t!r}")


def _field(f: dict[str, Any]) -> str:
    ann = _annotation(f["type"])
    doc = f.get("doc", "").replace('"', "'")
    if "default" not in f:
        default = "..."
    elif f["default"] is None:
        default = "None"
    elif f["default"] == []:
        default = "()"
    else:
        default = repr(f["default"])
    return f'    {f["name"]}: {ann} = Field({default}, description="{doc}")'


def _enum(t: dict[str, Any]) -> list[str]:
    lines = [f"class {t['name']}(StrEnum):", f'    """{t.get("doc", "")}"""', ""]
    lines += [f'    {s} = "{s}"' for s in t["symbols"]]
    return lines


def _record(t: dict[str, Any]) -> list[str]:
    lines = [f"class {t['name']}(AvroModel):", f'    """{t.get("doc", "")}"""', ""]
    lines.append(f'    AVRO_NAME: ClassVar[str] = "{NAMESPACE}.{t["name"]}"')
    lines += [_field(f) for f in t["fields"]]
    unions = [f for f in t["fields"] if isinstance(f["type"], list) and sum(m != "null" for m in f["type"]) > 1]
    for f in unions:
        members = [_short(m) for m in f["type"] if m != "null"]
        lines += [
            "",
            '    @model_validator(mode="before")',
            "    @classmethod",
            f"    def _resolve_{f['name']}(cls, data: Any) -> Any:",
            f'        """Build the ``{f["name"]}`` union branch from an Avro (name, record) pair or event_type."""',
            f'        return _resolve_union(data, "{f["name"]}", _{t["name"].upper()}_{f["name"].upper()})',
        ]
        if t["name"] == "CaseEvent":
            lines += [
                "",
                '    @model_validator(mode="after")',
                "    def _check_event_type(self) -> CaseEvent:",
                '        """The event type must name the payload\'s type."""',
                "        expected = EVENT_TYPE_OF[type(self.payload)]",
                "        if self.event_type != expected:",
                '            raise ValueError(f"event_type {self.event_type} does not match payload {expected}")',
                "        return self",
            ]
        lines += ["", ""]
        lines.append(f"_{t['name'].upper()}_{f['name'].upper()}: dict[str, type[AvroModel]] = {{")
        lines += [f'    "{m}": {m},' for m in members]
        lines.append("}")
    return lines


_RESOLVE = '''

def _resolve_union(data: Any, field: str, members: dict[str, type[AvroModel]]) -> Any:
    """Turn a union value given as ``(avro name, dict)`` or as a dict beside ``event_type`` into its model."""
    if not isinstance(data, dict) or field not in data:
        return data
    value = data[field]
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        name, body = value
        return {**data, field: members[name.rsplit(".", 1)[-1]].model_validate(body)}
    if isinstance(value, dict) and "event_type" in data:
        model = PAYLOAD_OF_EVENT_TYPE.get(str(data["event_type"]))
        if model is not None:
            return {**data, field: model.model_validate(value)}
    return data
'''


def render(schema_dir: Path = SCHEMA_DIR) -> str:
    """Render the models module for the schemas in ``schema_dir``."""
    types = read_named_types(schema_dir)
    enums = [t for t in types.values() if t["type"] == "enum"]
    records = [t for t in types.values() if t["type"] == "record"]
    ordered = _dependency_order(records)
    out = [_HEADER.format(ns=NAMESPACE)]
    for t in sorted(enums, key=lambda e: e["name"]):
        out += ["", "", *_enum(t)]
    for t in ordered:
        out += ["", "", *_record(t)]
    root = types[f"{NAMESPACE}.CaseEvent"]
    payload_field = next(f for f in root["fields"] if f["name"] == "payload")
    payloads = [_short(p) for p in payload_field["type"]]
    out += ["", ""]
    out.append("Payload = " + " | ".join(payloads))
    out += ["", "EVENT_TYPE_OF: dict[type[AvroModel], EventType] = {"]
    out += [f"    {p}: EventType.{_snake_upper(p)}," for p in payloads]
    out += ["}", "PAYLOAD_OF_EVENT_TYPE: dict[str, type[AvroModel]] = {str(v): k for k, v in EVENT_TYPE_OF.items()}"]
    out.append(_RESOLVE.rstrip("\n"))
    return "\n".join(out).replace("\n\n\n\n", "\n\n\n") + "\n"


def _dependency_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order records so that each is defined after the records its fields name (for readable output)."""
    by_name = {r["name"]: r for r in records}
    done: list[str] = []

    def refs(t: Any) -> list[str]:
        if isinstance(t, str):
            return [_short(t)] if _short(t) in by_name else []
        if isinstance(t, list):
            return [r for m in t for r in refs(m)]
        if isinstance(t, dict):
            return refs(t["items"]) if t.get("type") == "array" else refs(t.get("type"))
        return []

    def visit(name: str) -> None:
        if name in done:
            return
        for f in by_name[name]["fields"]:
            for r in refs(f["type"]):
                visit(r)
        done.append(name)

    for name in sorted(by_name):
        visit(name)
    return [by_name[n] for n in done]


def write(path: Path = MODELS_PATH) -> bool:
    """Rewrite the models module; return whether it changed."""
    text = render()
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed:
        path.write_text(text, encoding="utf-8")
    return changed
