"""The generated models are in step with the Avro schemas (the codegen drift test)."""

from __future__ import annotations

import pytest

from gateway.codec.schemas import read_named_types
from gateway.events import models as m
from gateway.evolution import codegen

TYPES = read_named_types()
RECORDS = sorted(name for name, t in TYPES.items() if t["type"] == "record")
ENUMS = sorted(name for name, t in TYPES.items() if t["type"] == "enum")


def test_committed_models_are_what_codegen_renders() -> None:
    rendered = codegen.render()
    committed = codegen.MODELS_PATH.read_text(encoding="utf-8")

    assert rendered == committed, (
        "gateway/events/models.py is stale: the Avro schemas changed. Run `gateway schemas codegen` and commit it."
    )


def test_every_named_type_has_a_model() -> None:
    assert len(RECORDS) + len(ENUMS) == len(TYPES) == 48


@pytest.mark.parametrize("name", RECORDS)
def test_model_fields_are_the_record_fields(name: str) -> None:
    model = getattr(m, name.rpartition(".")[2])

    assert name == model.AVRO_NAME
    assert list(model.model_fields) == [f["name"] for f in TYPES[name]["fields"]]


@pytest.mark.parametrize("name", ENUMS)
def test_enum_members_are_the_symbols(name: str) -> None:
    enum = getattr(m, name.rpartition(".")[2])

    assert [e.value for e in enum] == TYPES[name]["symbols"]
