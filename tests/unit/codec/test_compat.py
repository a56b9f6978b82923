"""The schema evolution gate: incompatible changes are caught two ways, compatible evolutions pass and freeze."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastavro.validation import validate

from gateway.cli.main import main
from gateway.codec.schemas import NAMESPACE, SCHEMA_DIR, canonical_schema, read_named_types
from gateway.codec.single_object import schema_fingerprint
from gateway.evolution import HISTORY_DIR, check, expand, fingerprint, freeze, load_history
from gateway.evolution.datums import DatumGenerator
from gateway.evolution.history import dumps
from gateway.evolution.roots import schema_roots

# Fewer datums than the CLI default keeps the suite quick; the generator still goes on until every union branch
# and enum symbol was written.
DATUMS = 120

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the current schemas and, for every root, a history of one release: its latest, as v1.

    The tests count versions from a known start, whatever the project has released since.
    """
    schema_dir, history_dir = tmp_path / "avro", tmp_path / "history"
    shutil.copytree(SCHEMA_DIR, schema_dir)
    for root in schema_roots(SCHEMA_DIR):
        released = load_history(HISTORY_DIR, root.root)
        if released:
            (history_dir / root.short).mkdir(parents=True)
            shutil.copy(released[-1].path, history_dir / root.short / "v1.avsc")
    return schema_dir, history_dir


def edit(schema_dir: Path, name: str, change: Edit) -> None:
    path = schema_dir / f"{NAMESPACE}.{name}.avsc"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


def field_of(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def rename_type(schema_dir: Path, old: str, new: str) -> None:
    """Rename a named type: its file, its name and every reference to it."""
    old_full, new_full = f"{NAMESPACE}.{old}", f"{NAMESPACE}.{new}"

    def swap(node: Any) -> Any:
        if isinstance(node, str):
            return new_full if node == old_full else node
        if isinstance(node, list):
            return [swap(n) for n in node]
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        return node

    for path in schema_dir.glob("*.avsc"):
        schema = swap(json.loads(path.read_text(encoding="utf-8")))
        if path.stem == old_full:
            path.unlink()
            schema["name"] = new
            path = schema_dir / f"{new_full}.avsc"
        path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


# --- incompatible changes -------------------------------------------------------------------------------------------


def remove_required_field(d: Path) -> None:
    edit(d, "CaseEvent", lambda s: s["fields"].remove(field_of(s, "case_reference")))


def int_to_string(d: Path) -> None:
    edit(d, "ReintegrationReferral", lambda s: field_of(s, "family_size").update(type="string"))


def nullable_int_to_string(d: Path) -> None:
    edit(d, "VoluntaryDeparture", lambda s: field_of(s, "length_days").update(type=["null", "string"]))


def remove_enum_symbol_and_default(d: Path) -> None:
    def change(s: dict[str, Any]) -> None:
        s["symbols"].remove("ENFORCED")
        del s["default"]

    edit(d, "ReturnType", change)


def add_required_field(d: Path) -> None:
    edit(d, "NonReturnRecorded", lambda s: s["fields"].append({"name": "priority", "type": "int"}))


def rename_nested_record(d: Path) -> None:
    rename_type(d, "Source", "Origin")


def rename_payload_record(d: Path) -> None:
    rename_type(d, "EntryRecorded", "BorderEntryRecorded")


INCOMPATIBLE: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    # change -> the directions in which it breaks
    "remove a field without default": (remove_required_field, {"forward"}),
    "change a field's type int to string": (int_to_string, {"backward", "forward"}),
    "change a nullable int to a nullable string": (nullable_int_to_string, {"backward", "forward"}),
    "remove an enum symbol and the default": (remove_enum_symbol_and_default, {"backward"}),
    "add a required field without default": (add_required_field, {"backward"}),
    "rename a nested record": (rename_nested_record, {"backward", "forward"}),
    "rename a payload record (union branch)": (rename_payload_record, {"backward", "forward"}),
}


@pytest.mark.parametrize("kind", INCOMPATIBLE)
def test_incompatible_change_is_caught_statically_and_by_resolution(kind: str, dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    change, directions = INCOMPATIBLE[kind]
    change(schema_dir)

    report = check(schema_dir, history_dir, datums=DATUMS)

    assert not report.ok
    for method in ("static", "resolution"):
        found = {f.direction for f in report.findings if f.method == method}
        assert found == directions, f"{method} found {found} for {kind}: {report.findings}"
    # A breaking change breaks it against every released version, each named.
    released = {s.version for s in load_history(history_dir)}
    assert {f.version for f in report.findings if f.method in ("static", "resolution")} == released


def test_findings_name_the_place_and_the_cause(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    remove_required_field(schema_dir)
    rename_payload_record(schema_dir)

    report = check(schema_dir, history_dir, datums=DATUMS)

    static = {(f.direction, f.path): f.message for f in report.findings if f.method == "static"}
    assert "reader_field_missing_default_value" in static["forward", "CaseEvent.case_reference"]
    assert "missing_union_branch" in static["backward", "CaseEvent.payload<EntryRecorded>"]
    resolution = [f.message for f in report.findings if f.method == "resolution"]
    assert any("No default value for field case_reference" in m for m in resolution)
    assert all(len(m) < 400 for m in resolution), "fastavro's whole-schema dumps are summarised"


def test_enum_without_default_breaks_the_policy_only(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    edit(schema_dir, "Severity", lambda s: s.pop("default"))

    report = check(schema_dir, history_dir, datums=DATUMS)

    # dropping a default is FULL compatible today, but no symbol could be added tomorrow
    assert [(f.method, f.path) for f in report.findings] == [("policy", f"{NAMESPACE}.Severity")]


def test_the_gate_is_transitive(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    # v2 drops a defaulted field: compatible both ways
    edit(schema_dir, "ReturnDecisionIssued", lambda s: s["fields"].remove(field_of(s, "suspended")))
    assert freeze(schema_dir, history_dir, datums=DATUMS).status == "written"
    # it comes back with another type: compatible with v2 (which lacks it) but not with v1
    edit(
        schema_dir,
        "ReturnDecisionIssued",
        lambda s: s["fields"].append({"name": "suspended", "type": "int", "default": 0}),
    )

    report = check(schema_dir, history_dir, datums=DATUMS)

    assert report.versions == (1, 2)
    assert {f.version for f in report.findings} == {1}
    assert {f.method for f in report.findings} == {"static", "resolution"}


# --- compatible evolutions ------------------------------------------------------------------------------------------


def add_optional_payload_field(d: Path) -> None:
    gate = {"name": "gate", "type": ["null", "string"], "default": None, "doc": "Gate number."}
    edit(d, "EntryRecorded", lambda s: s["fields"].append(gate))


def add_enum_symbol(d: Path) -> None:
    edit(d, "ReturnType", lambda s: s["symbols"].insert(2, "ESCORTED"))


def add_envelope_field_with_default(d: Path) -> None:
    edit(d, "CaseEvent", lambda s: s["fields"].append({"name": "schema_note", "type": "string", "default": "none"}))


def remove_defaulted_field(d: Path) -> None:
    edit(d, "ReturnDecisionStatusChanged", lambda s: s["fields"].remove(field_of(s, "appeal_lodged")))


COMPATIBLE = {
    "add an optional field to a payload record": add_optional_payload_field,
    "add an enum symbol to an enum with a default": add_enum_symbol,
    "add a field with a default to the envelope": add_envelope_field_with_default,
    "remove a field that has a default": remove_defaulted_field,
}


@pytest.mark.parametrize("kind", COMPATIBLE)
def test_compatible_evolution_passes(kind: str, dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    COMPATIBLE[kind](schema_dir)

    report = check(schema_dir, history_dir, datums=DATUMS)

    assert report.ok, report.findings
    assert report.fingerprint != fingerprint(load_history(history_dir)[0].schema)


def test_current_schemas_pass_against_the_committed_history() -> None:
    report = check()

    assert report.ok, report.findings
    assert report.versions[0] == 1
    assert report.fingerprint == schema_fingerprint(canonical_schema()).hex()


def test_committed_snapshots_are_self_contained_and_stably_formatted() -> None:
    history = load_history()
    assert [s.version for s in history] == list(range(1, len(history) + 1))
    for snap in history:
        assert snap.path.read_text(encoding="utf-8") == dumps(snap.schema)
        assert snap.schema["name"] == "CaseEvent"


# --- freeze ----------------------------------------------------------------------------------------------------------


def test_freeze_refuses_an_incompatible_change(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    add_required_field(schema_dir)

    result = freeze(schema_dir, history_dir, datums=DATUMS)

    assert (result.status, result.version, result.path) == ("incompatible", 1, None)
    assert not result.report.ok
    assert [s.version for s in load_history(history_dir)] == [1]


def test_freeze_writes_the_next_version_of_a_compatible_change(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    add_optional_payload_field(schema_dir)
    add_enum_symbol(schema_dir)

    result = freeze(schema_dir, history_dir, datums=DATUMS)

    assert (result.status, result.version) == ("written", 2)
    assert result.path == history_dir / "CaseEvent" / "v2.avsc"
    assert json.loads(result.path.read_text(encoding="utf-8")) == expand(schema_dir)
    assert freeze(schema_dir, history_dir, datums=DATUMS).status == "unchanged"
    assert check(schema_dir, history_dir, datums=DATUMS).ok


def test_freeze_does_not_release_an_unchanged_canonical_form(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    # docs are not part of the Parsing Canonical Form, so the wire identity is unchanged
    edit(schema_dir, "Source", lambda s: s.update(doc="Reworded."))

    result = freeze(schema_dir, history_dir, datums=DATUMS)

    assert (result.status, result.version, result.path) == ("unchanged", 1, None)


def test_freeze_of_an_empty_history_writes_v1(tmp_path: Path) -> None:
    result = freeze(SCHEMA_DIR, tmp_path, datums=DATUMS)

    assert (result.status, result.version) == ("written", 1)
    assert result.path is not None
    assert result.path.read_text(encoding="utf-8") == dumps(expand())


# --- registry hook and schema errors -------------------------------------------------------------------------------


def test_registry_check_is_asked_with_the_current_schema(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    asked: list[str] = []

    def registry(schema: str) -> list[str]:
        asked.append(schema)
        return ["READER_FIELD_MISSING_DEFAULT_VALUE: priority"]

    report = check(schema_dir, history_dir, datums=DATUMS, registry_check=registry)

    assert json.loads(asked[0]) == expand(schema_dir)
    assert [(f.method, f.message) for f in report.findings] == [
        ("registry", "READER_FIELD_MISSING_DEFAULT_VALUE: priority")
    ]


def test_an_unanswered_registry_fails_the_gate(dirs: tuple[Path, Path]) -> None:
    def registry(schema: str) -> list[str]:
        raise ConnectionError("registry down")

    report = check(*dirs, datums=DATUMS, registry_check=registry)

    assert not report.ok
    assert "registry down" in report.findings[0].message


def test_a_schema_that_does_not_load_is_a_finding(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    (schema_dir / f"{NAMESPACE}.Source.avsc").unlink()

    report = check(schema_dir, history_dir)

    assert [(f.method, f.direction) for f in report.findings] == [("schema", "current")]


# --- the datum generator ------------------------------------------------------------------------------------------


def test_datums_are_valid_deterministic_and_take_every_choice() -> None:
    schema = expand()
    generator = DatumGenerator(schema, seed=7)
    data = generator.datums(DATUMS)

    assert generator.untaken() == {}
    assert data == DatumGenerator(schema, seed=7).datums(DATUMS)
    assert data != DatumGenerator(schema, seed=8).datums(DATUMS)
    assert all(validate(d, generator.schema, raise_errors=False) for d in data)
    payload_types = field_of(read_named_types()[f"{NAMESPACE}.CaseEvent"], "payload")["type"]
    assert {d["payload"][0] for d in data} == set(payload_types)
    assert any(d["validation_warnings"] == [] for d in data)
    assert any(d["validation_warnings"] for d in data)


# --- CLI, in process ------------------------------------------------------------------------------------------------


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(main, ["schemas", *map(str, args)])


def test_cli_check_passes_on_a_compatible_copy(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    add_envelope_field_with_default(schema_dir)

    result = run("check", "--schema-dir", schema_dir, "--history-dir", history_dir, "--datums", DATUMS)

    assert result.exit_code == 0, result.output
    assert "compatible" in result.output


def test_cli_check_fails_on_an_incompatible_copy(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    int_to_string(schema_dir)

    table = run("check", "--schema-dir", schema_dir, "--history-dir", history_dir, "--datums", DATUMS)
    as_json = run("check", "--schema-dir", schema_dir, "--history-dir", history_dir, "--datums", DATUMS, "--json")

    assert table.exit_code == 1
    assert "CaseEvent.payload<ReintegrationReferral>.family_size" in table.output
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)["roots"]["eu.returns.gateway.v1.CaseEvent"]
    assert report["ok"] is False
    assert {f["method"] for f in report["findings"]} == {"static", "resolution"}


def test_cli_freeze_writes_and_refuses(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    unchanged = run("freeze", "--schema-dir", schema_dir, "--history-dir", history_dir)
    add_optional_payload_field(schema_dir)
    written = run("freeze", "--schema-dir", schema_dir, "--history-dir", history_dir)
    add_required_field(schema_dir)
    refused = run("freeze", "--schema-dir", schema_dir, "--history-dir", history_dir)

    assert (unchanged.exit_code, written.exit_code, refused.exit_code) == (0, 0, 1)
    assert "nothing to freeze" in unchanged.output
    assert "wrote v2" in written.output
    assert [s.version for s in load_history(history_dir)] == [1, 2]


def test_cli_fingerprint_and_codegen_check() -> None:
    printed = run("fingerprint")
    in_step = run("codegen", "--check")

    assert printed.exit_code == 0
    assert fingerprint(expand()) in printed.output
    assert in_step.exit_code == 0, in_step.output


def test_every_subfolder_root_is_gated_and_must_be_released(dirs: tuple[Path, Path]) -> None:
    schema_dir, history_dir = dirs
    extra = schema_dir / "extra"
    extra.mkdir()
    (extra / "x.v1.Leaf.avsc").write_text(
        json.dumps(
            {"type": "enum", "name": "Leaf", "namespace": "x.v1", "symbols": ["A", "UNKNOWN"], "default": "UNKNOWN"}
        )
    )
    (extra / "x.v1.Top.avsc").write_text(
        json.dumps(
            {"type": "record", "name": "Top", "namespace": "x.v1", "fields": [{"name": "leaf", "type": "x.v1.Leaf"}]}
        )
    )

    roots = {r.root for r in schema_roots(schema_dir)}
    unreleased = run("check", "--schema-dir", schema_dir, "--history-dir", history_dir, "--datums", DATUMS)
    frozen = run("freeze", "--schema-dir", schema_dir, "--history-dir", history_dir)
    released = run("check", "--schema-dir", schema_dir, "--history-dir", history_dir, "--datums", DATUMS)

    assert "x.v1.Top" in roots
    assert "x.v1.Leaf" not in roots  # a type another refers to is not a root
    assert unreleased.exit_code == 1
    assert "x.v1.Top: never released" in unreleased.output
    assert "Top: wrote v1" in frozen.output
    assert (history_dir / "Top" / "v1.avsc").is_file()
    assert released.exit_code == 0, released.output
