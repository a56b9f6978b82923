"""Aggregates only: no subject-level field in the output's schema or CSV header, no personal value in its bytes."""

import csv
import dataclasses
import io
import json
from typing import Any

import jsonschema
import pytest

from gateway.adapters.rrai import Quarter, RraiConfig, build_report, fold_usage, write_report
from gateway.adapters.rrai.export import output_schema
from gateway.adapters.rrai.usage import ROW_FIELDS
from gateway.errors import FatalError
from gateway.samples.rrai_stories import SENTINELS, rrai_stories
from gateway.validation.programmes import example_programmes_path, load_programmes

CATALOGUE = load_programmes(example_programmes_path())

# Field names (or parts of names) that would hold or point at one person.
FORBIDDEN_NAMES = ("subject", "key", "case", "event_id", "correlation", "decision_reference", "identity")
FORBIDDEN_PARTS = (
    "surname",
    "forename",
    "alias",
    "birth",
    "document",
    "passport",
    "nationalit",
    "sex",
    "gender",
    "person_id",
    "referral",
    "address",
    "phone",
    "email",
)


def _property_names(schema: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(schema, dict):
        names |= set(schema.get("properties", {}))
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _property_names(value)
    return names


def _subject_level(name: str) -> bool:
    lowered = name.lower()
    return any(f in lowered for f in FORBIDDEN_NAMES + FORBIDDEN_PARTS)


def test_the_output_schema_has_no_subject_level_field() -> None:
    names = _property_names(output_schema())
    assert {"rows", "applied", "country_of_return", "programme_reference"} <= names, "the walk finds the fields"
    assert sorted(n for n in names if _subject_level(n)) == []


def test_the_output_schema_closes_every_object() -> None:
    def objects(schema: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(schema, dict):
            if schema.get("type") == "object":
                found.append(schema)
            for value in schema.values():
                found += objects(value)
        elif isinstance(schema, list):
            for value in schema:
                found += objects(value)
        return found

    closed = objects(output_schema())
    assert len(closed) == 4
    assert all(o.get("additionalProperties") is False for o in closed)


def test_the_csv_header_and_the_row_model_match_the_schema_and_hold_no_subject_level_field() -> None:
    row_schema = output_schema()["$defs"]["row"]
    assert list(row_schema["properties"]) == list(ROW_FIELDS)
    assert set(row_schema["required"]) == set(ROW_FIELDS)
    report = build_report(fold_usage([]), Quarter.parse("2026-Q1"), CATALOGUE, RraiConfig())
    header = next(csv.reader(io.StringIO(report.csv_bytes().decode())))
    assert header == list(ROW_FIELDS)
    assert [h for h in header if _subject_level(h)] == []


def test_no_personal_value_of_the_input_reaches_the_output_bytes(tmp_path) -> None:
    stories = rrai_stories(17 * 6)
    usage = fold_usage(stories.events)
    personal = set(SENTINELS)
    for e in stories.events:
        personal |= {e.subject_key, str(e.event_id), e.case_reference, e.correlation_id}
    written = b""
    for quarter in stories.quarters():
        for threshold in (1, 5):
            report = build_report(usage, Quarter.parse(quarter), CATALOGUE, RraiConfig(threshold=threshold))
            assert report.rows
            for path in write_report(report, tmp_path / str(threshold)):
                written += path.read_bytes()
    assert b"SENTINEL" in b"".join(e.model_dump_json().encode() for e in stories.events), "the input carries them"
    leaked = sorted(p for p in personal if p.encode() in written or p.upper().encode() in written.upper())
    assert leaked == []


def test_a_row_the_schema_refuses_is_never_written(tmp_path) -> None:
    stories = rrai_stories(17)
    report = build_report(fold_usage(stories.events), Quarter.parse("2025-Q1"), CATALOGUE, RraiConfig())
    assert report.rows
    bad_row = dataclasses.replace(report.rows[0], country_of_return="Mr SENTINEL SURNAME")
    bad = dataclasses.replace(report, rows=(bad_row,))
    with pytest.raises(FatalError, match="country_of_return"):
        write_report(bad, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_schema_refuses_an_added_subject_field() -> None:
    stories = rrai_stories(17)
    report = build_report(fold_usage(stories.events), Quarter.parse("2025-Q1"), CATALOGUE, RraiConfig())
    doc = report.to_json()
    jsonschema.validate(doc, output_schema())
    doc["rows"][0]["subject_key"] = "k"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, output_schema())
    doc = json.loads(json.dumps(report.to_json()))
    doc["persons"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, output_schema())
