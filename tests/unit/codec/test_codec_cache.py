"""What building an ``EventCodec`` reuses: the compiled writer by fingerprint, released schemas by their files."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema

from gateway.codec import compiled_writer, history
from gateway.codec.codec import EventCodec
from gateway.codec.compiled_writer import NotCompilableError, WriterCache
from gateway.codec.history import HISTORY_DIR, load_history, released_schemas, snapshot_dir
from gateway.codec.single_object import schema_fingerprint
from gateway.testing import examples


def record_schema(name: str) -> dict[str, Any]:
    parsed = parse_schema({"type": "record", "name": name, "fields": [{"name": "n", "type": "long"}]})
    assert isinstance(parsed, dict)
    return parsed


class Counting:
    """``compile_writer`` with a count of its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = compiled_writer.compile_writer

    def __call__(self, schema: dict[str, Any]) -> compiled_writer.Writer:
        self.calls += 1
        return self._real(schema)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    counter = Counting()
    monkeypatch.setattr(compiled_writer, "compile_writer", counter)
    return counter


def test_codecs_of_one_schema_share_one_compiled_writer(counting: Counting) -> None:
    cache = WriterCache()
    codecs = [EventCodec(writers=cache) for _ in range(3)]
    assert counting.calls == 1
    event = examples.all_events()[0]
    assert {c.encode(event) for c in codecs} == {EventCodec(compiled=False).encode(event)}


def test_the_default_cache_is_shared_by_every_codec() -> None:
    assert EventCodec()._compiled is EventCodec()._compiled


def test_writers_are_keyed_by_fingerprint(counting: Counting) -> None:
    cache = WriterCache()
    a, b = record_schema("A"), record_schema("B")
    wa, wb = cache.get(schema_fingerprint(a), a), cache.get(schema_fingerprint(b), b)
    assert wa is not wb
    assert cache.get(schema_fingerprint(a), a) is wa
    assert counting.calls == 2


def test_the_cache_is_bounded_least_recently_used_first(counting: Counting) -> None:
    cache = WriterCache(size=2)
    a, b, c = (record_schema(n) for n in "ABC")
    wa = cache.get(b"a" * 8, a)
    cache.get(b"b" * 8, b)
    cache.get(b"a" * 8, a)  # a is now the most recently used
    cache.get(b"c" * 8, c)  # so b goes
    assert len(cache) == 2
    assert cache.get(b"a" * 8, a) is wa
    assert counting.calls == 3
    cache.get(b"b" * 8, b)
    assert counting.calls == 4


def test_a_schema_it_cannot_compile_is_not_cached() -> None:
    cache = WriterCache()
    mapped = parse_schema(
        {"type": "record", "name": "M", "fields": [{"name": "m", "type": {"type": "map", "values": "long"}}]}
    )
    assert isinstance(mapped, dict)
    for _ in range(2):
        with pytest.raises(NotCompilableError):
            cache.get(b"m" * 8, mapped)
    assert len(cache) == 0


def test_threads_asking_at_once_all_get_the_kept_writer() -> None:
    cache = WriterCache()
    schema = record_schema("T")
    got: list[compiled_writer.Writer] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        got.append(cache.get(b"t" * 8, schema))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8
    assert all(w is got[0] for w in got)
    assert len(cache) == 1


def test_released_schemas_are_the_history_parsed() -> None:
    assert [schema_fingerprint(s) for s in released_schemas()] == [
        schema_fingerprint(parse_schema(s.schema)) for s in load_history()
    ]
    assert released_schemas() is released_schemas()  # read once


def test_a_version_released_while_running_is_read(tmp_path: Path) -> None:
    folder = snapshot_dir(tmp_path)
    shutil.copytree(snapshot_dir(HISTORY_DIR), folder)
    before = released_schemas(tmp_path)
    newest = max(folder.glob("v*.avsc"), key=lambda p: int(p.stem[1:]))
    (folder / f"v{int(newest.stem[1:]) + 1}.avsc").write_bytes(newest.read_bytes())
    after = released_schemas(tmp_path)
    assert len(after) == len(before) + 1


def test_the_evolution_tooling_reads_history_through_the_codec_layer() -> None:
    from gateway.evolution import history as evolution_history

    assert evolution_history.load_history is history.load_history


def test_each_trusted_instance_has_a_fields_set_of_its_own() -> None:
    # The builders set the slots themselves (model_reader._SLOTS); a set shared between instances would let one
    # model_copy(update=...) change what another reports as set.
    codec = EventCodec()
    data = codec.encode(examples.all_events()[0])
    a, b = codec.decode(data, trusted=True), codec.decode(data, trusted=True)
    assert a.model_fields_set == b.model_fields_set == set(type(a).model_fields)
    assert a.model_fields_set is not b.model_fields_set
    assert a.source.model_fields_set is not b.source.model_fields_set
