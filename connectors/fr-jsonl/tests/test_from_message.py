"""Records that arrive one a message: REST payloads and raw Kafka topics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gw_connector_fr_jsonl import FrJsonlConnector

from gateway.connectors.base import Fact
from gateway.errors import ParseError
from gateway.events import models as m

T = m.EventType


def _translate(c: FrJsonlConnector, value: bytes) -> list[Fact]:
    record = c.from_message(value, "raw.fr.dossiers", "raw.fr.dossiers/2/1045", 1045)
    assert (record.source, record.position, record.index) == ("raw.fr.dossiers", "raw.fr.dossiers/2/1045", 1045)
    return c.map(c.parse(record))


def test_a_pretty_printed_rest_payload(
    connector: FrJsonlConnector, example_objects: dict[T, dict[str, Any]], example_facts: dict[T, Fact]
) -> None:
    for event, obj in example_objects.items():
        payload = json.dumps(obj, indent=2, ensure_ascii=True).encode() + b"\r\n"
        assert _translate(connector, payload) == [example_facts[event]]


def test_a_leading_bom_is_dropped_and_the_rest_kept_untouched(
    connector: FrJsonlConnector, example_objects: dict[T, dict[str, Any]], example_facts: dict[T, Fact]
) -> None:
    body = json.dumps(example_objects[T.ENTRY_RECORDED]).encode()
    record = connector.from_message(b"\xef\xbb\xbf" + body, "t", "t/0/0", 0)
    assert record.data == body
    assert connector.from_message(body, "t", "t/0/0", 0).data == body
    assert connector.map(connector.parse(record)) == [example_facts[T.ENTRY_RECORDED]]


def test_duplicate_keys_in_a_pretty_payload(connector: FrJsonlConnector, example_objects: dict[T, Any]) -> None:
    payload = json.dumps(example_objects[T.ENTRY_RECORDED], indent=2).encode()
    payload = payload.replace(b'"numeroDossier": ', b'"numeroDossier": "FR-0",\n  "numeroDossier": ', 1)
    with pytest.raises(ParseError, match="duplicate key 'numeroDossier'"):
        _translate(connector, payload)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        (lambda a, b: a + b"\n" + b, "trailing characters"),  # JSON Lines in one message
        (lambda a, b: b"[" + a + b"," + b + b"]", "a record must be a JSON object"),  # a batch as an array
        (lambda a, b: b"", "empty record"),
    ],
)
def test_one_record_a_message(
    shape: Any, message: str, connector: FrJsonlConnector, example_objects: dict[T, Any]
) -> None:
    a = json.dumps(example_objects[T.ENTRY_RECORDED]).encode()
    b = json.dumps(example_objects[T.NON_RETURN_RECORDED]).encode()
    with pytest.raises(ParseError, match=message):
        _translate(connector, shape(a, b))
