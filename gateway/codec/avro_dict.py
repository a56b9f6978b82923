"""Conversion between the pydantic event models and the plain values fastavro reads and writes."""

from __future__ import annotations

from typing import Any

from gateway.events.models import AvroModel, CaseEvent


def to_avro(event: CaseEvent) -> dict[str, Any]:
    """Return the event as a dict fastavro can write, the payload as an ``(avro name, record)`` union branch."""
    data = event.model_dump(mode="python")
    data["payload"] = (event.payload.AVRO_NAME, data["payload"])
    return data


def from_avro(data: dict[str, Any]) -> CaseEvent:
    """Build the event model from a dict read with ``return_record_name=True``."""
    return CaseEvent.model_validate(data)


def payload_name(model: AvroModel) -> str:
    """The Avro full name of a model's record type."""
    return model.AVRO_NAME
