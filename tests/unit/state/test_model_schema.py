from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from gateway.state.model_schema import avro_named_types, model_codec, write_schema_files


class Leaf(BaseModel):
    """A leaf."""

    model_config = ConfigDict(frozen=True)

    code: Literal["A", "B"] = "A"
    day: dt.date | None = None


class Root(BaseModel):
    """The root.

    More text that is not the summary.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    count: int = 0
    flag: bool = False
    at: dt.datetime | None = None
    leaves: tuple[Leaf, ...] = ()
    one: Leaf | None = None


def test_the_derived_schema_has_one_record_per_model_and_defaults_where_the_model_has_them():
    types = avro_named_types(Root, "eu.test.v1")
    assert list(types) == ["eu.test.v1.Root", "eu.test.v1.Leaf"]
    root = {f["name"]: f for f in types["eu.test.v1.Root"]["fields"]}
    assert "default" not in root["name"]
    assert root["count"] == {"name": "count", "type": "long", "default": 0}
    assert root["at"]["type"] == ["null", {"type": "long", "logicalType": "timestamp-millis"}]
    assert root["leaves"] == {"name": "leaves", "type": {"type": "array", "items": "eu.test.v1.Leaf"}, "default": []}
    assert root["one"]["type"] == ["null", "eu.test.v1.Leaf"]
    leaf = {f["name"]: f for f in types["eu.test.v1.Leaf"]["fields"]}
    assert leaf["code"] == {"name": "code", "type": "string", "default": "A"}
    assert types["eu.test.v1.Root"]["doc"] == "The root."


def test_types_without_an_obvious_avro_form_are_refused():
    class Bad(BaseModel):
        x: dict[str, int]

    with pytest.raises(TypeError, match=r"Bad\.x"):
        avro_named_types(Bad, "eu.test.v1")

    class Union(BaseModel):
        x: int | str

    with pytest.raises(TypeError, match="unions"):
        avro_named_types(Union, "eu.test.v1")


instants = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
).map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))
leaves = st.builds(Leaf, code=st.sampled_from(["A", "B"]), day=st.none() | st.dates())
roots = st.builds(
    Root,
    name=st.text(),
    count=st.integers(-(2**63), 2**63 - 1),
    flag=st.booleans(),
    at=st.none() | instants,
    leaves=st.lists(leaves, max_size=3).map(tuple),
    one=st.none() | leaves,
)


@given(roots)
def test_values_round_trip_through_the_written_schema(tmp_path_factory: pytest.TempPathFactory, value: Root) -> None:
    folder = tmp_path_factory.mktemp("avro")
    write_schema_files(Root, "eu.test.v1", folder)
    codec = model_codec(Root, folder, "eu.test.v1.Root")
    assert codec.decode(codec.encode(value)) == value
