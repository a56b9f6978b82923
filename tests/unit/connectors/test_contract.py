"""The connector contract in ``gateway.connectors.base``: fact warnings, pydantic errors as dead letters."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest

from gateway.codec.codec import EventCodec
from gateway.connectors.base import Fact, RawRecord, renders_samples
from gateway.errors import MappingError
from gateway.events import models as m
from gateway.pipeline.processor import RecordProcessor
from gateway.testing.conformance import identity_context
from tests.unit.pipeline.toy import ToyConnector

WARNING = m.ValidationFinding(
    rule_id="CN-DST-001",
    severity=m.Severity.WARNING,
    path="timestamp",
    message="02:30 occurs twice",
    legal_reference="none (data quality)",
)


class WarningToy(ToyConnector):
    """The toy, with a warning on every fact."""

    def map(self, parsed: Any) -> list[Fact]:
        (fact,) = super().map(parsed)
        return [Fact(fact.case_reference, fact.person_ref, fact.occurred_at, fact.payload, (WARNING,))]


class InvalidModelToy(ToyConnector):
    """The toy building a payload its values cannot make: pydantic raises ``ValidationError`` in ``map``."""

    def map(self, parsed: Any) -> list[Fact]:
        payload = m.NonReturnRecorded(decision_reference=None, period_last_day="31/02/2025", source="MONITOR")
        return [Fact("CASE-1", "4711", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), payload)]


class InvalidParseToy(ToyConnector):
    """The toy validating its parsed structure with pydantic, which refuses it in ``parse``."""

    def parse(self, record: RawRecord) -> Any:
        return m.PartialDate.model_validate({"year": "nineteen", "precision": "YEAR"})


def _record(text: bytes = b"NON_RETURN_RECORDED") -> RawRecord:
    return RawRecord(text, "<test>", "line 1")


def _connector(cls: type[ToyConnector]) -> ToyConnector:
    return cls(cls.config_model(member_state=m.MemberState.NL))


def test_fact_warnings_travel_on_the_event_and_through_the_codec() -> None:
    c = _connector(WarningToy)
    (event,) = c.translate(_record(), identity_context(c))
    assert event.validation_warnings == (WARNING,)
    codec = EventCodec()
    assert codec.decode(codec.encode(event)).validation_warnings == (WARNING,)


def test_a_fact_without_warnings_makes_an_event_without_warnings() -> None:
    c = _connector(ToyConnector)
    (event,) = c.translate(_record(), identity_context(c))
    assert event.validation_warnings == ()


def test_a_validation_error_while_mapping_is_a_mapping_error_naming_the_fields() -> None:
    c = _connector(InvalidModelToy)
    with pytest.raises(MappingError) as caught:
        c.translate(_record(), identity_context(c))
    message = str(caught.value)
    assert message.startswith("invalid NonReturnRecorded: ")
    assert "decision_reference" in message
    assert "period_last_day" in message
    assert caught.value.position == "line 1"


def test_a_validation_error_while_parsing_is_a_mapping_error_too() -> None:
    c = _connector(InvalidParseToy)
    with pytest.raises(MappingError, match=r"invalid PartialDate: year: "):
        c.translate(_record(), identity_context(c))


def test_a_validation_error_becomes_a_dead_letter_and_the_ingest_goes_on() -> None:
    c = _connector(InvalidModelToy)
    processor = RecordProcessor(c, identity_context(c), EventCodec())
    outcomes = list(processor.process_stream(c.read(io.BytesIO(b"A\nB\n"), "<test>")))
    assert [o.dead_letter.stage if o.dead_letter else None for o in outcomes] == ["map", "map"]
    assert all(o.dead_letter and o.dead_letter.error_class == "gateway.errors.MappingError" for o in outcomes)


def test_renders_samples_tells_a_renderer_from_a_plain_connector() -> None:
    from gw_connector_de_csv import DeCsvConnector

    assert renders_samples(DeCsvConnector)
    assert not renders_samples(ToyConnector)
    assert not renders_samples(_connector(ToyConnector))
