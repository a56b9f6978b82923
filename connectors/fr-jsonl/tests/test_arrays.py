"""Exports that are one JSON array: one element, one record, with its original bytes, whatever the chunking."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from gw_connector_fr_jsonl import FrJsonlConnector
from gw_connector_fr_jsonl.arrays import ArraySplitter
from gw_connector_fr_jsonl.reader import read_export
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.connectors.base import RawRecord
from gateway.errors import ParseError
from gateway.events import models as m

SETTINGS = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])


def read(data: bytes, max_record_bytes: int = 1_048_576) -> list[RawRecord]:
    return list(read_export(io.BytesIO(data), "export.json", max_record_bytes=max_record_bytes))


def split(data: bytes, cuts: list[int], max_record_bytes: int = 1_048_576) -> list[RawRecord]:
    """The splitter's records for ``data`` fed in pieces cut at ``cuts``."""
    splitter = ArraySplitter("export.json", max_record_bytes=max_record_bytes)
    records: list[RawRecord] = []
    start = 0
    for cut in [*sorted(cuts), len(data)]:
        records += splitter.feed(data[start:cut])
        start = max(start, cut)
    return records + splitter.end()


def outcome(records: list[RawRecord]) -> list[tuple[Any, ...]]:
    return [(r.data, r.position, r.index, str(r.error), r.original_length, r.original_sha256) for r in records]


def errors(records: list[RawRecord]) -> list[str | None]:
    return [None if r.error is None else str(r.error) for r in records]


# ---- the form of the export -----------------------------------------------------------------------------------


def test_elements_keep_their_bytes_and_say_where_they_start() -> None:
    data = b'\xef\xbb\xbf [\n  {"a": "x,]}\\"y"} ,\n  {"b":[1,2,{"c":3}]}\n]\n'
    records = read(data)
    assert [(r.data, r.position, r.index, r.error) for r in records] == [
        (b'{"a": "x,]}\\"y"}', "element 1 at byte 8", 0, None),
        (b'{"b":[1,2,{"c":3}]}', "element 2 at byte 29", 1, None),
    ]
    assert data[8 : 8 + len(records[0].data)] == records[0].data
    assert data[29 : 29 + len(records[1].data)] == records[1].data


def test_a_file_starting_with_an_object_is_json_lines() -> None:
    assert [r.position for r in read(b'{"a":1}\n[1]\n')] == ["line 1", "line 2"]
    assert [r.position for r in read(b"\n\n  [1]\n")] == ["element 1 at byte 5"]


def test_an_empty_array_has_no_records() -> None:
    assert read(b"[]") == []
    assert read(b" [ \n ] \n") == []


def test_concatenated_arrays_are_read_one_after_the_other() -> None:
    records = read(b'[{"a":1}]\n[{"b":2},{"c":3}]\n')
    assert [(r.data, r.position) for r in records] == [
        (b'{"a":1}', "element 1 at byte 1"),
        (b'{"b":2}', "element 2 at byte 11"),
        (b'{"c":3}', "element 3 at byte 19"),
    ]


# ---- damage: error records, and the good elements kept -------------------------------------------------------


def test_a_truncated_array_keeps_the_good_elements_and_names_the_broken_tail() -> None:
    records = read(b'[{"a":1},{"b":2},{"c":')
    assert [r.data for r in records] == [b'{"a":1}', b'{"b":2}', b'{"c":']
    assert errors(records)[:2] == [None, None]
    assert "the file ends inside element 3, before its array is closed: a truncated export?" in str(records[2].error)
    assert records[2].position == "element 3 at byte 17"


def test_an_array_cut_between_elements_gives_one_empty_error_record_at_the_end() -> None:
    records = read(b'[{"a":1},\n')
    assert errors(records) == [
        None,
        "the file ends after element 1 without closing the array (']' missing): a truncated export?",
    ]
    assert (records[1].data, records[1].position) == (b"", "end of file at byte 10")
    assert "after its opening '['" in str(read(b"[  ")[0].error)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"a":1},]', "empty element before ']' (a trailing comma)"),
        (b'[{"a":1},,{"b":2}]', "empty element between two commas"),
        (b"[,]", "empty element between two commas"),
    ],
)
def test_empty_elements_are_error_records(data: bytes, message: str) -> None:
    assert any(message in (e or "") for e in errors(read(data)))
    assert [r.data for r in read(data) if r.error is None][:1] == ([b'{"a":1}'] if b"a" in data else [])


def test_data_after_the_array_is_one_error_record_with_its_digest() -> None:
    tail = b'{"b":2}\n{"c":3}\n'
    records = read(b'[{"a":1}]\n' + tail)
    assert errors(records)[0] is None
    assert "16 bytes of data after the end of the JSON array" in str(records[1].error)
    assert records[1].position == "after the array, at byte 10"
    assert (records[1].original_length, records[1].original_sha256) == (len(tail), hashlib.sha256(tail).hexdigest())


def test_two_objects_without_a_comma_are_one_element_the_parser_refuses(connector: FrJsonlConnector) -> None:
    [record] = read(b'[{"a":1} {"b":2}]')
    assert record.data == b'{"a":1} {"b":2}'
    with pytest.raises(ParseError, match="trailing characters"):
        connector.parse(record)


def test_an_over_long_element_is_one_error_record_and_the_next_are_read() -> None:
    big = b'{"x":"' + b"y" * 5000 + b'"}'
    records = read(b"[" + big + b"   ,\n" + b'{"b":2}]', max_record_bytes=100)
    assert records[0].data == big[:100]
    assert "element of 5008 bytes exceeds the limit of 100 (max_record_bytes)" in str(records[0].error)
    # The whole element, its trailing whitespace excluded, as for a normal element.
    assert (records[0].original_length, records[0].original_sha256) == (len(big), hashlib.sha256(big).hexdigest())
    assert (records[1].data, records[1].error) == (b'{"b":2}', None)


def test_an_element_of_exactly_the_limit_is_whole() -> None:
    element = b'{"x":"' + b"y" * 92 + b'"}'
    assert read(b"[" + element + b"]", max_record_bytes=100)[0].error is None


# ---- the connector: an array export translates like the same records in JSON Lines ----------------------------


def test_an_array_export_gives_the_events_of_the_same_records_as_json_lines(
    connector: FrJsonlConnector,
    example_objects: dict[m.EventType, dict[str, Any]],
    translate: Callable[[bytes | dict[str, Any]], list[Any]],
) -> None:
    objects = list(example_objects.values())
    pretty = json.dumps(objects, indent=2, ensure_ascii=False).encode()
    records = list(connector.read(io.BytesIO(pretty), "export.json"))
    assert len(records) == len(objects) == 13
    assert all(r.error is None for r in records)
    assert [connector.map(connector.parse(r)) for r in records] == [translate(o) for o in objects]


# ---- properties ------------------------------------------------------------------------------------------------

# Any character UTF-8 can carry, and more often those that matter to the splitter.
TEXT_CHARACTERS = st.characters(codec="utf-8", exclude_categories=["Cs"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(TEXT_CHARACTERS | st.sampled_from('"\\[]{},'), max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
SPACE = st.text(alphabet=" \t\r\n", max_size=3)


@st.composite
def arrays(draw: st.DrawFn) -> tuple[bytes, list[Any], list[bytes]]:
    """A JSON array text with random whitespace around its elements, its values and each element's bytes."""
    values = draw(st.lists(VALUES, max_size=6))
    ascii_only = draw(st.booleans())
    elements = [json.dumps(v, ensure_ascii=ascii_only).encode() for v in values]
    text = draw(SPACE).encode() + b"["
    for i, element in enumerate(elements):
        text += draw(SPACE).encode() + element + draw(SPACE).encode() + (b"," if i < len(elements) - 1 else b"")
    return text + draw(SPACE).encode() + b"]" + draw(SPACE).encode(), values, elements


@SETTINGS
@given(arrays(), st.lists(st.integers(0, 400), max_size=8))
def test_valid_arrays_split_into_their_elements_as_json_loads_reads_them(
    case: tuple[bytes, list[Any], list[bytes]], cuts: list[int]
) -> None:
    text, values, elements = case
    records = split(text, cuts)
    assert json.loads(text) == values
    # Fed a byte at a time, every escape, quote and bracket falls on a boundary between pieces.
    assert outcome(split(text, list(range(len(text))))) == outcome(records)
    assert [r.data for r in records] == elements
    assert [json.loads(r.data) for r in records] == values
    assert all(r.error is None for r in records)
    for record in records:  # the position names the byte where the element starts
        offset = int(record.position.rsplit(" ", 1)[1])
        assert text[offset : offset + len(record.data)] == record.data


@SETTINGS
@given(st.binary(max_size=300).map(lambda b: b"[" + b), st.lists(st.integers(0, 300), max_size=8))
def test_any_bytes_give_the_same_records_however_they_are_chunked(data: bytes, cuts: list[int]) -> None:
    whole = outcome(split(data, [], max_record_bytes=40))
    assert outcome(split(data, cuts, max_record_bytes=40)) == whole
    assert outcome(split(data, list(range(len(data))), max_record_bytes=40)) == whole


@SETTINGS
@given(
    arrays(),
    st.sampled_from([b"", b",", b"]", b"[", b"{", b'"', b"\\", b"}", b" x"]),
    st.integers(0, 10_000),
    st.lists(st.integers(0, 400), max_size=4),
)
def test_damaged_arrays_never_lose_what_json_accepts(
    case: tuple[bytes, list[Any], list[bytes]], noise: bytes, where: int, cuts: list[int]
) -> None:
    text, _, _ = case
    at = where % (len(text) + 1)
    damaged = text[:at] + noise + text[at:]
    records = split(damaged, cuts)
    try:
        expected = json.loads(damaged)
    except ValueError:
        # Invalid JSON: records all the same, and never more bytes than the input had.
        assert sum(len(r.data) for r in records) <= len(damaged)
        return
    if isinstance(expected, list):
        assert all(r.error is None for r in records)
        assert [json.loads(r.data) for r in records] == expected


@pytest.mark.parametrize("cut", [1, 30_000, 66_000, 100_000])
def test_a_whitespace_bomb_after_an_over_long_element_counts_the_same_however_it_is_cut(cut: int) -> None:
    element = b'{"x":"' + b"y" * 200 + b'"}'
    spaces = b" \n" * 50_000  # 100,000 bytes: all but the last 65,536 count as part of the element
    data = b"[" + element + spaces + b"]"
    [record] = split(data, [1 + len(element) + cut], max_record_bytes=100)
    counted = element + spaces[: len(spaces) - 65_536]
    assert (record.original_length, record.original_sha256) == (len(counted), hashlib.sha256(counted).hexdigest())
