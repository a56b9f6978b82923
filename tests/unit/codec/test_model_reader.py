"""The trusted read path builds the same models as ``CaseEvent.model_validate``, for every record the reader gives."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import io
import json
import shutil
import sys
import timeit
import types
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError, field_validator

from gateway.codec import model_reader
from gateway.codec.avro_dict import to_avro
from gateway.codec.codec import EventCodec
from gateway.codec.model_reader import build, build_event, plan
from gateway.codec.schemas import NAMESPACE, SCHEMA_DIR, load_root
from gateway.codec.single_object import SchemaStore, header, split
from gateway.errors import DecodeError
from gateway.events import models as m
from gateway.evolution import codegen, expand, load_history
from gateway.testing.examples import all_events
from gateway.testing.strategies import case_events

CODEC = EventCodec()
EXAMPLES = all_events()
HISTORY = load_history()
RECORD_MODELS = sorted(
    (v for v in vars(m).values() if isinstance(v, type) and issubclass(v, m.AvroModel) and v is not m.AvroModel),
    key=lambda cls: cls.__name__,
)


def leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value of a model tree with its path, containers included, so that their types are compared too."""
    yield path, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from leaves(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from leaves(item, f"{path}[{i}]")


def assert_same(built: BaseModel, validated: BaseModel) -> None:
    """Equal, and the same type and repr at every level (a list for a tuple, a str for an enum, 1.0 for 1.00)."""
    assert built == validated
    for (path, a), (_, b) in zip(leaves(built), leaves(validated), strict=True):
        assert type(a) is type(b), path
        assert repr(a) == repr(b), path
        if isinstance(a, BaseModel):
            assert a.model_fields_set == b.model_fields_set, path
            assert list(a.__dict__) == list(b.__dict__), path  # same field order: repr and dumps follow it
            assert a.__pydantic_extra__ == b.__pydantic_extra__, path
            assert a.__pydantic_private__ == b.__pydantic_private__, path


def both(record: dict[str, Any]) -> tuple[m.CaseEvent, m.CaseEvent]:
    # Each path gets its own copy: neither may depend on what the other did to the record.
    return build_event(copy.deepcopy(record)), m.CaseEvent.model_validate(copy.deepcopy(record))


# --- equality with model_validate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: str(e.event_type))
def test_every_example_event(event: m.CaseEvent) -> None:
    data = CODEC.encode(event)
    built, validated = both(CODEC.decode_record(data))

    assert_same(built, validated)
    assert built == event
    assert_same(CODEC.decode(data, trusted=True), CODEC.decode(data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_events())
def test_generated_events(event: m.CaseEvent) -> None:
    built, validated = both(CODEC.decode_record(CODEC.encode(event)))

    assert_same(built, validated)
    assert built == event


def written_with(snapshot_schema: dict[str, Any], event: m.CaseEvent) -> bytes:
    """The event as a writer of an older released schema writes it (fields it lacks are left out)."""
    fp = CODEC.store.add(snapshot_schema)  # already there: the codec's store holds every released version
    writer = CODEC.store.get(fp)
    buf = io.BytesIO()
    schemaless_writer(buf, writer, to_avro(event))
    return header(fp) + buf.getvalue()


def test_the_history_is_in_the_codecs_store() -> None:
    assert len(HISTORY) >= 2
    assert all(CODEC.store.get(CODEC.store.add(s.schema)) is not None for s in HISTORY)


@pytest.mark.parametrize("snapshot", HISTORY, ids=lambda s: f"v{s.version}")
@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: str(e.event_type))
def test_examples_written_with_every_released_version(snapshot: Any, event: m.CaseEvent) -> None:
    record = CODEC.decode_record(written_with(snapshot.schema, event))
    built, validated = both(record)

    assert_same(built, validated)


def test_a_field_the_old_writer_lacks_reads_as_its_default() -> None:
    # v1 has no AvrrRecord.status: the reader fills in null, and both paths keep it.
    v1 = next(s for s in HISTORY if s.version == 1)
    event = next(e for e in EXAMPLES if e.event_type == m.EventType.EURODAC_HIT_RECEIVED)
    built, validated = both(CODEC.decode_record(written_with(v1.schema, event)))

    assert isinstance(built.payload, m.EurodacHitReceived)
    assert built.payload.avrr is not None
    assert built.payload.avrr.status is None
    assert_same(built, validated)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_events(), st.sampled_from(HISTORY))
def test_generated_events_written_with_a_released_version(event: m.CaseEvent, snapshot: Any) -> None:
    try:
        data = written_with(snapshot.schema, event)
    except ValueError:
        # The event uses a symbol added after this release (NonReturnSource.MONITOR ...): no writer of that
        # release could have produced it.
        assume(False)
    built, validated = both(CODEC.decode_record(data))

    assert_same(built, validated)


def enum_type(schema: Any, name: str) -> dict[str, Any]:
    """The definition of a named enum inside a self-contained schema."""
    stack = [schema]
    while stack:
        t = stack.pop()
        if isinstance(t, list):
            stack.extend(t)
        elif isinstance(t, dict):
            if t.get("type") == "enum" and t["name"] == name:
                return t
            stack.extend(f["type"] for f in t.get("fields", ()))
            stack.extend(x for x in (t.get("items"), t.get("type")) if isinstance(x, (dict, list)))
    raise KeyError(name)


def test_an_unknown_symbol_reads_as_the_enum_default_on_both_paths() -> None:
    writer = expand()
    enum_type(writer, "MemberState")["symbols"].append("XK")  # a writer that knows a State the reader does not
    store = SchemaStore(CODEC.store.current)
    codec = EventCodec(store=store)
    fp = store.add(writer)
    record = to_avro(EXAMPLES[0])
    record["member_state"] = "XK"
    buf = io.BytesIO()
    schemaless_writer(buf, store.get(fp), record)
    data = header(fp) + buf.getvalue()

    trusted, validated = codec.decode(data, trusted=True), codec.decode(data)

    assert trusted.member_state is m.MemberState.UNKNOWN
    assert_same(trusted, validated)


# --- records outside what the reader gives -------------------------------------------------------------------------


def test_an_event_type_that_does_not_name_the_payload_is_refused_on_both_paths() -> None:
    record = to_avro(EXAMPLES[0])
    record["event_type"] = next(t for t in m.EventType if t not in (EXAMPLES[0].event_type, m.EventType.UNKNOWN))
    data = CODEC.encode_record(record)

    with pytest.raises(ValidationError, match="does not match payload"):
        CODEC.decode(data)
    with pytest.raises(DecodeError, match="does not match payload"):
        CODEC.decode(data, trusted=True)


def test_a_record_missing_a_field_is_refused() -> None:
    record = CODEC.decode_record(CODEC.encode(EXAMPLES[0]))
    del record["case_reference"]

    with pytest.raises(ValueError, match="case_reference"):
        build_event(record)


def test_a_payload_without_its_record_name_is_left_to_validation() -> None:
    # Read without return_record_name the payload is a bare dict; the models' resolver goes by event_type.
    record = CODEC.decode_record(CODEC.encode(EXAMPLES[0]))
    record["payload"] = record["payload"][1]

    built, validated = both(record)

    assert_same(built, validated)


# --- the table follows the models ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", RECORD_MODELS, ids=lambda cls: cls.__name__)
def test_every_record_model_is_built_directly_and_every_field_is_covered(model: type[m.AvroModel]) -> None:
    p = plan(model)

    assert p.fallback is None
    assert [f.name for f in p.fields] == list(model.model_fields)
    assert all(f.kind and f.source for f in p.fields)


def test_the_envelope_check_is_run() -> None:
    assert plan(m.CaseEvent).checks == ("_check_event_type",)


def test_the_constraints_not_rechecked_are_the_documented_ones() -> None:
    # The codec's docstring promises an honest list: a constraint codegen adds must be added there too.
    doc = EventCodec.decode.__doc__ or ""
    listed = model_reader.unchecked()

    assert listed == [
        "AssistanceComponent.amount_eur: max_digits=12, decimal_places=2",
        "BudgetLine.amount_eur: max_digits=12, decimal_places=2",
    ]
    for entry in listed:
        field, _, constraint = entry.partition(": ")
        assert f"``{field}``" in doc
        assert all(f"``{c.strip()}``" in doc for c in constraint.split(",")), constraint


def test_a_model_the_reader_cannot_build_faithfully_falls_back_to_validation() -> None:
    class Stripped(m.AvroModel):
        AVRO_NAME: ClassVar[str] = f"{NAMESPACE}.Stripped"
        name: str

        @field_validator("name")
        @classmethod
        def _strip(cls, value: str) -> str:
            return value.strip()

    assert plan(Stripped).fallback == "field validators"
    assert build(Stripped, {"name": " x "}) == Stripped(name="x")


# --- a model class added to the schema, through codegen ------------------------------------------------------------

ADDED = {
    "type": "record",
    "name": "CaseClosed",
    "namespace": NAMESPACE,
    "doc": "Added in the test.",
    "fields": [
        {"name": "closed_on", "type": {"type": "int", "logicalType": "date"}, "doc": "d"},
        {"name": "closed_at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "d"},
        {"name": "reason", "type": f"{NAMESPACE}.ClosureReason", "doc": "d"},
        {"name": "reasons", "type": {"type": "array", "items": ["null", f"{NAMESPACE}.ClosureReason"]}, "doc": "d"},
        {"name": "notes", "type": {"type": "array", "items": ["null", "string"]}, "default": [], "doc": "d"},
        {"name": "costs", "type": {"type": "array", "items": f"{NAMESPACE}.BudgetLine"}, "default": [], "doc": "d"},
        {"name": "previous", "type": ["null", f"{NAMESPACE}.AvrrRecord"], "default": None, "doc": "d"},
        {
            "name": "refund",
            "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 3}],
            "default": None,
            "doc": "d",
        },
        {"name": "count", "type": "long", "doc": "d"},
        {"name": "ratio", "type": ["null", "double"], "default": None, "doc": "d"},
    ],
}
ADDED_ENUM = {
    "type": "enum",
    "name": "ClosureReason",
    "namespace": NAMESPACE,
    "doc": "Added in the test.",
    "symbols": ["DEPARTED", "REGULARISED", "UNKNOWN"],
    "default": "UNKNOWN",
}


@pytest.fixture(scope="module")
def evolved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[types.ModuleType, dict[str, Any]]]:
    """Models regenerated by codegen for a schema with a new payload type, and that schema parsed."""
    root = tmp_path_factory.mktemp("added")
    schema_dir = root / "avro"
    shutil.copytree(SCHEMA_DIR, schema_dir)
    for added in (ADDED, ADDED_ENUM):
        (schema_dir / f"{NAMESPACE}.{added['name']}.avsc").write_text(json.dumps(added), encoding="utf-8")

    def edit(name: str, change: Any) -> None:
        path = schema_dir / f"{NAMESPACE}.{name}.avsc"
        schema = json.loads(path.read_text(encoding="utf-8"))
        change(schema)
        path.write_text(json.dumps(schema), encoding="utf-8")

    edit("EventType", lambda s: s["symbols"].insert(-1, "CASE_CLOSED"))
    edit("CaseEvent", lambda s: next(f for f in s["fields"] if f["name"] == "payload")["type"].append("CaseClosed"))

    module_path = root / "evolved_models.py"
    module_path.write_text(codegen.render(schema_dir), encoding="utf-8")
    name = "tests_model_reader_evolved_models"
    spec = importlib.util.spec_from_file_location(name, module_path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the postponed annotations in the module's namespace
    try:
        spec.loader.exec_module(module)
        yield module, parse_schema(load_root(schema_dir))
    finally:
        del sys.modules[name]


def closed_payloads() -> list[dict[str, Any]]:
    full = {
        "closed_on": dt.date(2026, 4, 1),
        "closed_at": dt.datetime(2026, 4, 1, 12, 0, 0, 123000, tzinfo=dt.UTC),
        "reason": "DEPARTED",
        "reasons": [None, "REGULARISED"],
        "notes": ["a", None],
        "costs": [{"description": "Ticket", "amount_eur": Decimal("99.90")}],
        "previous": {"granted": True, "granting_member_state": "BE", "granted_on": None, "status": "GRANTED"},
        "refund": Decimal("12.345"),
        "count": 2**40,
        "ratio": 0.25,
    }
    empty = {**full, "reasons": [], "notes": [], "costs": [], "previous": None, "refund": None, "ratio": None}
    return [full, empty]


def test_a_payload_type_added_to_the_schema_is_built_without_a_change(
    evolved: tuple[types.ModuleType, dict[str, Any]],
) -> None:
    models, schema = evolved
    for cls in vars(models).values():
        if isinstance(cls, type) and issubclass(cls, models.AvroModel) and cls is not models.AvroModel:
            p = plan(cls)
            assert p.fallback is None, cls.__name__
            assert [f.name for f in p.fields] == list(cls.model_fields)
    kinds = {f.name: f.kind for f in plan(models.CaseClosed).fields}
    assert kinds["reasons"] == "tuple of enum ClosureReason or null"
    assert kinds["previous"] == "record AvrrRecord or null"

    base = to_avro(EXAMPLES[0])
    for payload in closed_payloads():
        record = {**base, "event_type": "CASE_CLOSED", "payload": (f"{NAMESPACE}.CaseClosed", payload)}
        buf = io.BytesIO()
        schemaless_writer(buf, schema, record)
        buf.seek(0)
        read = schemaless_reader(buf, schema, schema, return_record_name=True, return_record_name_override=True)

        built = build(models.CaseEvent, copy.deepcopy(read))
        validated = models.CaseEvent.model_validate(copy.deepcopy(read))

        assert_same(built, validated)
        assert isinstance(built.payload, models.CaseClosed)


def test_todays_events_read_into_the_evolved_models(evolved: tuple[types.ModuleType, dict[str, Any]]) -> None:
    models, schema = evolved
    for event in EXAMPLES:
        _, body = split(CODEC.encode(event))
        read = schemaless_reader(
            io.BytesIO(body), CODEC.store.current, schema, return_record_name=True, return_record_name_override=True
        )

        assert_same(build(models.CaseEvent, copy.deepcopy(read)), models.CaseEvent.model_validate(read))


# --- how much it saves ---------------------------------------------------------------------------------------------


def test_print_decode_timings(capsys: pytest.CaptureFixture[str]) -> None:
    data = [CODEC.encode(e) for e in EXAMPLES]
    records = [CODEC.decode_record(d) for d in data]
    number = 200

    def per_event(fn: Any) -> float:
        return min(timeit.repeat(fn, number=number, repeat=5)) / number / len(data) * 1e6

    timings = {
        "decode": per_event(lambda: [CODEC.decode(d) for d in data]),
        "decode(trusted=True)": per_event(lambda: [CODEC.decode(d, trusted=True) for d in data]),
        "  of which decode_record": per_event(lambda: [CODEC.decode_record(d) for d in data]),
        "  model_validate": per_event(lambda: [m.CaseEvent.model_validate(r) for r in records]),
        "  build_event": per_event(lambda: [build_event(r) for r in records]),
    }
    with capsys.disabled():
        print(f"\nper event, over the {len(data)} example events:")
        for label, us in timings.items():
            print(f"  {label:<26}{us:6.1f} µs")
