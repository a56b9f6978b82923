"""Hypothesis strategies for valid canonical events, derived from the Avro schemas (the source of truth).

Values respect what the Avro encoding keeps: ints in 32 or 64 bits, decimals within their precision and scale,
timestamps in UTC at millisecond precision (``timestamp-millis`` drops microseconds), dates in Python's range (inside
Avro's), strings of any Unicode scalar value including non-BMP characters. Partial dates are consistent with their
precision. Each event's ``event_type`` names its payload.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import strategies as st

from gateway.codec.schemas import NAMESPACE, SCHEMA_DIR, read_named_types
from gateway.events import models as m

_PAYLOAD_FIELD = "payload"
_PRIMITIVES: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(width=32, allow_nan=False),
    "double": st.floats(allow_nan=False),
    "bytes": st.binary(max_size=32),
    # Surrogates cannot be encoded in UTF-8; the second alphabet makes non-BMP characters common, not rare.
    "string": st.text(
        alphabet=st.characters(codec="utf-8") | st.characters(min_codepoint=0x10000, codec="utf-8"), max_size=24
    ),
}


def utc_millis() -> st.SearchStrategy[dt.datetime]:
    """Aware UTC datetimes at millisecond precision, over Python's whole range."""
    return st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def decimals(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    """Decimals with exactly ``scale`` places and at most ``precision`` digits, both signs."""
    top = 10**precision - 1
    return st.integers(-top, top).map(lambda n: Decimal(n).scaleb(-scale))


def partial_dates() -> st.SearchStrategy[dict[str, Any]]:
    """``PartialDate`` values whose known parts match their precision (ICAO 9303: unknown day or month)."""
    day = st.dates().map(lambda d: {"year": d.year, "month": d.month, "day": d.day, "precision": "DAY"})
    month = st.tuples(st.integers(1, 9999), st.integers(1, 12)).map(
        lambda ym: {"year": ym[0], "month": ym[1], "day": None, "precision": "MONTH"}
    )
    year = st.integers(1, 9999).map(lambda y: {"year": y, "month": None, "day": None, "precision": "YEAR"})
    unknown = st.just({"year": None, "month": None, "day": None, "precision": "UNKNOWN"})
    return st.one_of(day, month, year, unknown)


# Named types whose Avro shape allows values the domain does not; they get a domain strategy instead.
_OVERRIDES = {f"{NAMESPACE}.PartialDate": partial_dates}


def payloads(event_type: m.EventType | None = None) -> st.SearchStrategy[m.AvroModel]:
    """Payload models of one event type, or of any type."""
    if event_type is None:
        return st.one_of([payloads(t) for t in _event_types()])
    return _payloads(event_type)


def case_events(event_type: m.EventType | None = None) -> st.SearchStrategy[m.CaseEvent]:
    """Valid ``CaseEvent`` models of one event type, or of every type."""
    envelope = _builder().record(m.CaseEvent.AVRO_NAME, skip=("event_type", _PAYLOAD_FIELD))
    return st.tuples(envelope, payloads(event_type)).map(
        lambda pair: m.CaseEvent.model_validate(
            {**pair[0], "event_type": m.EVENT_TYPE_OF[type(pair[1])], _PAYLOAD_FIELD: pair[1]}
        )
    )


def _event_types() -> list[m.EventType]:
    """Event types that have a payload (``UNKNOWN`` is only a reader's default)."""
    return [t for t in m.EventType if str(t) in m.PAYLOAD_OF_EVENT_TYPE]


@cache
def _payloads(event_type: m.EventType) -> st.SearchStrategy[m.AvroModel]:
    model = m.PAYLOAD_OF_EVENT_TYPE[str(event_type)]
    return _builder().record(model.AVRO_NAME).map(model.model_validate)


@cache
def _builder() -> _Builder:
    return _Builder(read_named_types(SCHEMA_DIR))


class _Builder:
    """Strategies for Avro types, as the plain values ``CaseEvent.model_validate`` accepts."""

    def __init__(self, types: dict[str, dict[str, Any]]) -> None:
        self.types = types
        self._named: dict[str, st.SearchStrategy[Any]] = {}  # built once: hypothesis is slow with fresh strategies

    def record(self, name: str, skip: tuple[str, ...] = ()) -> st.SearchStrategy[dict[str, Any]]:
        """Field dicts of a record; fields with a default are sometimes left out so the model's default applies."""
        fields = [f for f in self.types[name]["fields"] if f["name"] not in skip]
        required = {f["name"]: self.of(f["type"]) for f in fields if "default" not in f}
        optional = {f["name"]: self.of(f["type"]) for f in fields if "default" in f}
        return st.fixed_dictionaries(required, optional=optional)

    def of(self, t: Any) -> st.SearchStrategy[Any]:
        """A strategy for any Avro type in the schemas' own (file) form."""
        if isinstance(t, list):
            return st.one_of([self.of(member) for member in t])
        if isinstance(t, str):
            return self._named_or_primitive(t)
        logical = t.get("logicalType")
        if logical == "decimal":
            return decimals(int(t["precision"]), int(t.get("scale", 0)))
        if logical == "uuid":
            return st.uuids()
        if logical == "date":
            return st.dates()
        if logical == "timestamp-millis":
            return utc_millis()
        if t["type"] == "array":
            return st.lists(self.of(t["items"]), max_size=3).map(tuple)
        if t["type"] in ("record", "enum"):
            raise TypeError(f"inline named types are not used in the schemas: {t.get('name')}")
        return self.of(t["type"])

    def _named_or_primitive(self, name: str) -> st.SearchStrategy[Any]:
        if name in _PRIMITIVES:
            return _PRIMITIVES[name]
        if name not in self._named:
            named = self.types[name]
            if name in _OVERRIDES:
                self._named[name] = _OVERRIDES[name]()
            elif named["type"] == "enum":
                self._named[name] = st.sampled_from(named["symbols"])
            else:
                self._named[name] = self.record(name)
        return self._named[name]
