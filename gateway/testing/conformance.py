"""The connector conformance kit: a pytest suite any connector package runs.

Subclass ``ConnectorConformance`` in the package's tests and set ``connector_cls``, ``config`` and, for the
golden tier, ``golden_dir``::

    class TestMyConnector(ConnectorConformance):
        connector_cls = MyConnector
        config = {"member_state": "NL"}
        golden_dir = Path(__file__).parent / "golden"

Tiers:

- contract: name, version, formats and a configuration model that round-trips and rejects unknown keys;
- golden: each real example export in ``golden_dir`` translates to exactly the events (and dead letters) of its
  ``<file>.expected.json`` beside it, subject keys computed with ``GOLDEN_SECRET``; write that file once with
  ``gateway connectors golden NAME FILE --write`` (or ``write_golden``) and review it;
- purity: parsing and mapping the same record twice gives equal results and changes nothing;
- rendering (only for connectors that provide the optional ``SampleRenderer`` part; the others are *skipped*,
  with a reason): rendered samples read back into the records written, map to the facts they were rendered
  from and encode under the canonical Avro schema, and every defect kind raises a ``RecordError``.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Final, NoReturn

from gateway.codec.codec import EventCodec
from gateway.connectors.base import Connector, Fact, MappingContext, RawRecord, renders_samples
from gateway.errors import RecordError
from gateway.events.models import CaseEvent
from gateway.pipeline.processor import RecordProcessor
from gateway.pipeline.pseudonym import pseudonymiser
from gateway.samples.generate import generate, sample_records

GOLDEN_SECRET: Final = b"gateway-golden-test-secret"
"""The pseudonymisation secret of golden files: fixed, so their subject keys are stable (never a real one)."""

GOLDEN_SUFFIX: Final = ".expected.json"
"""An example export ``x.csv`` has its expected events in ``x.csv.expected.json`` beside it."""

# Fields of an event that say when and in which run the gateway recorded it, or which build of the connector:
# they change from run to run (or release to release) without the translation changing.
_UNSTABLE: Final[dict[str, Any]] = {"recorded_at": True, "correlation_id": True, "source": {"version"}}


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


def golden_context(connector: Connector[Any]) -> MappingContext:
    """The mapping context of golden files: fixed run data, subject keys keyed with ``GOLDEN_SECRET``."""
    return MappingContext(
        connector=connector.name,
        version=connector.version,
        member_state=connector.config.member_state,
        correlation_id="golden",
        recorded_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        pseudonymise=pseudonymiser(GOLDEN_SECRET, str(connector.config.member_state)),
    )


def export(connector: Connector[Any], *, count: int, seed: int, defect_share: float) -> tuple[bytes, Any]:
    """Render an export in memory; return its bytes and manifest."""
    buf = io.BytesIO()
    manifest = generate(connector, buf, count=count, seed=seed, defect_share=defect_share)
    return buf.getvalue(), manifest


def read_all(connector: Connector[Any], data: bytes, source: str = "<memory>") -> list[RawRecord]:
    """Read every raw record of an export."""
    return list(connector.read(io.BytesIO(data), source))


def canonical_event(event: CaseEvent) -> dict[str, Any]:
    """An event as plain JSON data, without the fields that change from run to run (``_UNSTABLE``)."""
    return event.model_dump(mode="json", exclude=_UNSTABLE)


def golden_records(connector: Connector[Any], data: bytes, source: str) -> list[dict[str, Any]]:
    """What an export translates to, record by record, as plain JSON data.

    Each record is ``{"position", "events": [...]}`` or ``{"position", "dead_letter": {"stage",
    "error_class", "message"}}``. Records go through the framework's own processor (translate, then Avro
    encoding, no validation rules: those are the rule catalogue's business, not the connector's).
    """
    codec = EventCodec()
    processor = RecordProcessor(connector, golden_context(connector), codec)
    out: list[dict[str, Any]] = []
    for outcome in processor.process_stream(connector.read(io.BytesIO(data), source)):
        entry: dict[str, Any] = {"position": outcome.record.position}
        dead = outcome.dead_letter
        if dead is None:
            entry["events"] = [canonical_event(codec.decode(e.value)) for e in outcome.events]
        else:
            entry["dead_letter"] = {"stage": dead.stage, "error_class": dead.error_class, "message": dead.message}
        out.append(entry)
    return out


def expected_path(example: Path) -> Path:
    """Where the expected events of an example export are kept."""
    return example.with_name(example.name + GOLDEN_SUFFIX)


def golden_text(connector: Connector[Any], example: Path) -> str:
    """The expected-events file of an example export, as this connector translates it now (stable JSON)."""
    records = golden_records(connector, example.read_bytes(), example.name)
    document = {
        "connector": connector.name,
        "input": example.name,
        "records_in": len(records),
        "events_out": sum(len(r.get("events", ())) for r in records),
        "dead_letters": sum("dead_letter" in r for r in records),
        "records": records,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_golden(connector: Connector[Any], example: Path) -> Path:
    """(Re)write the expected-events file of an example export; review the result before committing it."""
    path = expected_path(example)
    path.write_text(golden_text(connector, example), encoding="utf-8")
    return path


def golden_diff(connector: Connector[Any], example: Path) -> str:
    """A unified diff between an example's expected-events file and what the connector makes of it now.

    Empty when they agree. A missing expected file is all difference.
    """
    path = expected_path(example)
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    actual = golden_text(connector, example)
    if expected == actual:
        return ""
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True), str(path), "translated now"
        )
    )


def golden_examples(folder: Path) -> list[Path]:
    """The example exports of a golden folder: every file that has an expected-events file beside it."""
    return sorted(p.with_name(p.name[: -len(GOLDEN_SUFFIX)]) for p in folder.glob("*" + GOLDEN_SUFFIX))


def assert_golden(connector: Connector[Any], folder: Path) -> None:
    """Assert that every example export in ``folder`` translates to exactly its expected events and dead letters.

    Raises:
        AssertionError: ``folder`` has no expected files, or an example differs (the message holds the diff).
    """
    examples = golden_examples(folder)
    assert examples, f"{folder} has no *{GOLDEN_SUFFIX}: write them with write_golden and review them"
    for example in examples:
        diff = golden_diff(connector, example)
        assert not diff, f"{example.name} no longer translates to its expected events:\n{diff}"


def _skip(reason: str) -> NoReturn:
    import pytest  # the kit runs under pytest; the gateway itself does not depend on it

    pytest.skip(reason)


class ConnectorConformance:
    """Base class of a connector's conformance tests (collected by pytest in subclasses named ``Test*``).

    Class attributes:
        connector_cls: The connector class under test.
        config: Its configuration (as in ``[connectors.NAME]``).
        golden_dir: Folder of example exports with their ``*.expected.json``; None skips the golden tier.
        sample_count: Records rendered by the rendering tiers.
        seed: Seed of the rendered samples.
    """

    connector_cls: ClassVar[type[Connector[Any]]]
    config: ClassVar[Mapping[str, Any]]
    golden_dir: ClassVar[Path | None] = None
    sample_count: ClassVar[int] = 240
    seed: ClassVar[int] = 20260601

    def connector(self) -> Connector[Any]:
        """A connector instance with the configured settings."""
        return self.connector_cls(self.connector_cls.config_model.model_validate(dict(self.config)))

    def _renderer(self) -> Connector[Any]:
        c = self.connector()
        if not renders_samples(c):
            _skip(f"{c.name} does not render samples (no SampleRenderer part): rendering tier not run")
        return c

    # ---- contract ----------------------------------------------------------------------------------------------

    def test_declares_contract(self) -> None:
        """Name, version, formats and config model are declared; a sample renderer also declares defect kinds."""
        cls = self.connector_cls
        assert cls.name
        assert cls.version
        assert cls.formats
        assert cls.config_model.model_json_schema()["properties"]
        if renders_samples(cls):
            assert cls.defect_kinds, "a connector that renders samples must declare the defect kinds they can carry"

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

    # ---- golden files ------------------------------------------------------------------------------------------

    def test_golden_files(self) -> None:
        """Every example export in ``golden_dir`` translates to exactly its expected events and dead letters."""
        if self.golden_dir is None:
            _skip(f"{self.connector_cls.name}: no golden_dir, golden tier not run")
        assert_golden(self.connector(), self.golden_dir)

    # ---- purity ------------------------------------------------------------------------------------------------

    def test_parse_and_map_are_pure(self) -> None:
        """Parsing and mapping the same record twice gives equal results and changes nothing."""
        c = self.connector()
        records = self._purity_records(c)
        if not records:
            _skip(f"{c.name}: neither samples nor golden examples to check purity on")
        ctx = identity_context(c)
        for record in records:
            before = copy.deepcopy(record)
            first = _translated(c, record, ctx)
            second = _translated(c, record, ctx)
            assert first == second
            assert record == before

    def _purity_records(self, c: Connector[Any]) -> list[RawRecord]:
        if renders_samples(c):
            data, _ = export(c, count=20, seed=self.seed, defect_share=0.0)
            return read_all(c, data)
        if self.golden_dir is None:
            return []
        return [r for example in golden_examples(self.golden_dir) for r in read_all(c, example.read_bytes())]

    # ---- rendering (optional) ----------------------------------------------------------------------------------

    def test_valid_samples_map_to_their_facts_and_encode(self) -> None:
        """Every valid sample record maps to exactly the facts it was rendered from, and encodes."""
        c = self._renderer()
        data, manifest = export(c, count=self.sample_count, seed=self.seed, defect_share=0.0)
        records = read_all(c, data)
        assert len(records) == manifest.records == self.sample_count
        ctx, codec = identity_context(c), EventCodec()
        expected = [r.facts for _, r in sample_records(c, count=self.sample_count, seed=self.seed)]
        events_out = 0
        for record, facts in zip(records, expected, strict=True):
            events = c.translate(record, ctx)
            got = [Fact(e.case_reference, e.subject_key, e.occurred_at, e.payload) for e in events]
            assert got == [_without_warnings(f) for f in facts], (
                f"record {record.position} maps to other facts than it was rendered from"
            )
            for e in events:
                assert codec.decode(codec.encode(e)) == e
            events_out += len(events)
        assert events_out == manifest.events
        assert len(manifest.event_types) >= 1

    def test_every_defect_kind_is_a_record_error(self) -> None:
        """Each defect kind makes its record raise a ``RecordError``, and valid neighbours still map."""
        c = self._renderer()
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


def _translated(c: Connector[Any], record: RawRecord, ctx: MappingContext) -> list[CaseEvent] | str:
    try:
        return c.translate(record, ctx)
    except RecordError as exc:
        return f"{type(exc).__name__}: {exc}"


def _without_warnings(fact: Fact) -> Fact:
    # Case stories carry no findings; the warnings a connector adds are checked by the golden tier.
    return Fact(fact.case_reference, fact.person_ref, fact.occurred_at, fact.payload)
