"""RIAT messages as JSON, valid against ``schemas/json/riat-referral-v1.schema.json`` before they leave.

:func:`render` returns a value and never raises on data: :class:`Rendered` with the bytes, or :class:`Refused` with
a reason that names fields and JSON Schema keywords but never a value (reasons end up in logs and dead-letter
headers). The bytes are deterministic: keys sorted, no insignificant white space, UTF-8, no floats (amounts are
decimal strings), times in UTC with milliseconds. Two gates stand before the schema: every data field must be on the
whitelist of its message kind, and text must be encodable as UTF-8 (no lone surrogates).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from gateway.adapters.riat.config import RiatConfig
from gateway.adapters.riat.messages import CaseCreation, Km1, RiatMessage

__all__ = [
    "CONTENT_TYPE",
    "REFERRAL_SCHEMA",
    "SCHEMA_ID",
    "Refused",
    "Rendered",
    "json_schema_path",
    "load_json_schema",
    "render",
    "to_document",
]

REFERRAL_SCHEMA = "riat-referral-v1.schema.json"
SCHEMA_ID = "urn:eu:returns-gateway:riat-referral:v1"
CONTENT_TYPE = "application/json"
"""The outbox ``content_type`` of a RIAT message."""

_ENVELOPE = frozenset({"kind", "referral_id", "member_state", "created_at", "legal_basis"})


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message as schema-valid JSON.

    Attributes:
        kind: The message kind (``CASE_CREATION``, ``KM1_APPLICATION``, ``KM1_UPDATE``).
        body: UTF-8 JSON, keys sorted, compact.
    """

    kind: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """A message that must not leave, and why (field names and schema keywords only, never a value).

    Attributes:
        kind: The message kind.
        reason: Why it was refused.
    """

    kind: str
    reason: str


def json_schema_path(name: str) -> Path:
    """Where a JSON Schema of the gateway is: in ``gateway/_schemas/json`` in a wheel, else ``schemas/json``."""
    package = Path(__file__).resolve().parents[2]
    packaged = package / "_schemas" / "json" / name
    return packaged if packaged.is_file() else package.parent / "schemas" / "json" / name


@functools.cache
def load_json_schema(name: str) -> Draft202012Validator:
    """A validator of one of the gateway's JSON Schemas, loaded and checked once (formats checked too)."""
    schema = json.loads(json_schema_path(name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@functools.cache
def _default_config() -> RiatConfig:
    return RiatConfig()


def render(message: RiatMessage, config: RiatConfig | None = None) -> Rendered | Refused:
    """Render a message as JSON and check it against its whitelist and the JSON Schema.

    Args:
        message: The message.
        config: The configuration whose whitelists apply; the defaults when None.

    Returns:
        ``Rendered`` with the bytes, or ``Refused`` with the reason. Never raises on the message's data.
    """
    kind = message.kind
    config = config or _default_config()
    try:
        document = to_document(message)
    except OverflowError:
        return Refused(kind, "created_at cannot be written in UTC (outside the calendar)")
    section = document.get("case" if isinstance(message, CaseCreation) else "km1", {})
    outside = sorted(_paths(section) - set(config.fields[kind]) - {"consent_obtained"})
    if outside:
        return Refused(kind, f"fields outside the whitelist of {kind}: {', '.join(outside)}")
    errors = sorted(load_json_schema(REFERRAL_SCHEMA).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        # Not error.message: it quotes the offending value, and reasons reach logs and DLQ headers.
        found = "; ".join(f"{e.validator} at /{'/'.join(str(p) for p in e.absolute_path)}" for e in errors[:5])
        return Refused(kind, f"not valid against {REFERRAL_SCHEMA}: {found}")
    try:
        body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Refused(kind, "text holds characters UTF-8 cannot carry (lone surrogates)")
    return Rendered(kind, body)


def to_document(message: RiatMessage) -> dict[str, Any]:
    """The message as the JSON document the schema describes (fields that are None are left out)."""
    data = message.model_dump(exclude_none=True)
    document: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "kind": message.kind,
        "referral_id": message.referral_id,
        "member_state": message.member_state,
        "created_at": _utc(message.created_at),
        "legal_basis": message.legal_basis,
    }
    section = {k: _plain(v) for k, v in data.items() if k not in _ENVELOPE}
    if "identity" in section:
        # An identity list left empty is a field not whitelisted or not known: left out, like a None.
        section["identity"] = {k: v for k, v in section["identity"].items() if v != []}
        if not section["identity"]:
            del section["identity"]
    document["case" if isinstance(message, CaseCreation) else "km1"] = section
    assert isinstance(message, CaseCreation | Km1)
    return document


def _paths(section: dict[str, Any]) -> set[str]:
    """Whitelist names of a section: ``identity`` counts by its fields (``identity.surnames`` ...)."""
    out = {k for k in section if k != "identity"}
    out |= {f"identity.{k}" for k in section.get("identity", {})}
    return out


def _plain(value: Any) -> Any:
    # What json.dumps cannot write itself, written the one way the schema allows; floats never occur in messages.
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
