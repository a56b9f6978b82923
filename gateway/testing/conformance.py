"""The connector conformance kit: a pytest suite any connector package runs.

Subclass ``ConnectorConformance`` in the package's tests and set ``connector_cls`` and ``config``::

    class TestMyConnector(ConnectorConformance):
        connector_cls = MyConnector
        config = {"member_state": "NL"}

It checks that rendered samples read back into exactly the records written; that valid records map to the
facts they were rendered from and encode under the canonical Avro schema; that every defect kind raises a
``RecordError``; that parsing and mapping are pure; and that the configuration round-trips.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Mapping
from typing import Any, ClassVar

from gateway.codec.codec import EventCodec
from gateway.connectors.base import Connector, Fact, MappingContext, RawRecord
from gateway.errors import RecordError
from gateway.samples.generate import generate


def identity_context(connector: Connector[Any]) -> MappingContext:
    """A mapping context whose pseudonymiser is the identity, so subject keys equal person references."""
    return MappingContext(
        connector=connector.name,
        version=connector.version,
        member_state=connector.config.member_state,
        correlation_id="conformance",
        recorded_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        pseudonymise=lambda ref: ref,
    )


def export(connector: Connector[Any], *, count: int, seed: int, defect_share: float) -> tuple[bytes, Any]:
    """Render an export in memory; return its bytes and manifest."""
    buf = io.BytesIO()
    manifest = generate(connector, buf, count=count, seed=seed, defect_share=defect_share)
    return buf.getvalue(), manifest


def read_all(connector: Connector[Any], data: bytes) -> list[RawRecord]:
    """Read every raw record of an export."""
    return list(connector.read(io.BytesIO(data), "<memory>"))


class ConnectorConformance:
    """Base class of a connector's conformance tests (collected by pytest in subclasses named ``Test*``)."""

    connector_cls: ClassVar[type[Connector[Any]]]
    config: ClassVar[Mapping[str, Any]]
    sample_count: ClassVar[int] = 240
    seed: ClassVar[int] = 20260601

    def connector(self) -> Connector[Any]:
        """A connector instance with the configured settings."""
        return self.connector_cls(self.connector_cls.config_model.model_validate(dict(self.config)))

    def test_declares_contract(self) -> None:
        """Name, version, formats, config model and defect kinds are declared."""
        cls = self.connector_cls
        assert cls.name
        assert cls.version
        assert cls.formats
        assert cls.config_model.model_json_schema()["properties"]
        assert cls.defect_kinds, "a connector must declare the defect kinds its samples can carry"

    def test_config_round_trips(self) -> None:
        """The configuration survives a JSON round trip and rejects unknown keys."""
        c = self.connector()
        again = self.connector_cls.config_model.model_validate_json(c.config.model_dump_json())
        assert again == c.config
        try:
            self.connector_cls.config_model.model_validate({**self.config, "no_such_option": 1})
        except ValueError:
            pass
        else:
            raise AssertionError("unknown configuration keys must be rejected")

    def test_valid_samples_map_to_their_facts_and_encode(self) -> None:
        """Every valid sample record maps to exactly the facts it was rendered from, and encodes."""
        c = self.connector()
        data, manifest = export(c, count=self.sample_count, seed=self.seed, defect_share=0.0)
        records = read_all(c, data)
        assert len(records) == manifest.records == self.sample_count
        ctx, codec = identity_context(c), EventCodec()
        expected = _expected_facts(c, self.sample_count, self.seed)
        events_out = 0
        for record, facts in zip(records, expected, strict=True):
            events = c.translate(record, ctx)
            got = [Fact(e.case_reference, e.subject_key, e.occurred_at, e.payload) for e in events]
            assert got == list(facts), f"record {record.position} maps to other facts than it was rendered from"
            for e in events:
                assert codec.decode(codec.encode(e)) == e
            events_out += len(events)
        assert events_out == manifest.events
        assert len(manifest.event_types) >= 1

    def test_every_defect_kind_is_a_record_error(self) -> None:
        """Each defect kind makes its record raise a ``RecordError``, and valid neighbours still map."""
        c = self.connector()
        data, manifest = export(c, count=self.sample_count, seed=self.seed, defect_share=0.35)
        assert set(manifest.defects.values()) == set(c.defect_kinds), "every defect kind must occur in the sample"
        records = read_all(c, data)
        ctx = identity_context(c)
        bad = {}
        events = 0
        for record in records:
            try:
                events += len(c.translate(record, ctx))
            except RecordError as exc:
                bad[record.index] = exc
        assert sorted(bad) == sorted(manifest.defects), "exactly the damaged records must be rejected"
        assert events == manifest.events
        for error in bad.values():
            assert str(error), "a record error must say what is wrong"

    def test_parse_and_map_are_pure(self) -> None:
        """Parsing and mapping the same record twice gives equal results and changes nothing."""
        c = self.connector()
        data, _ = export(c, count=20, seed=self.seed, defect_share=0.0)
        ctx = identity_context(c)
        for record in read_all(c, data):
            before = copy.deepcopy(record)
            first = c.translate(record, ctx)
            second = c.translate(record, ctx)
            assert first == second
            assert record == before


def _expected_facts(c: Connector[Any], count: int, seed: int) -> list[tuple[Fact, ...]]:
    from gateway.samples.generate import sample_records

    return [r.facts for _, r in sample_records(c, count=count, seed=seed)]
