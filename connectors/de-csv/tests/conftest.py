"""Fixtures of the de-csv tests (test modules are imported with importlib, so helpers live here)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from gw_connector_de_csv import DeCsvConfig, DeCsvConnector
from gw_connector_de_csv.columns import FIELDS, HEADER
from gw_connector_de_csv.renderer import encode_row

from gateway.connectors.base import RawRecord


@pytest.fixture
def make_connector() -> Callable[..., DeCsvConnector]:
    """Build a connector with config overrides."""

    def make(**overrides: Any) -> DeCsvConnector:
        return DeCsvConnector(DeCsvConfig.model_validate({"member_state": "DE", **overrides}))

    return make


@pytest.fixture
def connector(make_connector: Callable[..., DeCsvConnector]) -> DeCsvConnector:
    return make_connector()


@pytest.fixture
def read_bytes() -> Callable[..., list[RawRecord]]:
    """Read an export given as bytes."""

    def read(c: DeCsvConnector, data: bytes) -> list[RawRecord]:
        return list(c.read(io.BytesIO(data), "test.csv"))

    return read


@pytest.fixture
def row_bytes() -> Callable[..., bytes]:
    """A row in canonical order built from field values (others empty), encoded."""

    def build(encoding: str = "iso-8859-1", **values: str) -> bytes:
        unknown = set(values) - set(FIELDS)
        assert not unknown, unknown
        return encode_row([values.get(f, "") for f in FIELDS], encoding)

    return build


@pytest.fixture
def csv_file() -> Callable[..., bytes]:
    """A whole export: header (canonical or given) and rows, joined with a line end."""

    def build(
        rows: Iterable[bytes],
        *,
        encoding: str = "iso-8859-1",
        header: Iterable[str] = HEADER,
        newline: bytes = b"\r\n",
        bom: bool = False,
    ) -> bytes:
        lines = [encode_row(list(header), encoding), *rows]
        return (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines) + newline

    return build
