"""The file-drop transport: whole files or none, one per id, duplicates detected even after pickup."""

from __future__ import annotations

import os
import threading

import pytest

from gateway.delivery.filedrop import FileDropOptions, FileDropTransport, drop_name
from gateway.delivery.transport import SendOutcome, TransientDeliveryError
from tests.unit.delivery.support import message


def _transport(tmp_path, **options) -> FileDropTransport:
    return FileDropTransport(FileDropOptions(directory=tmp_path / "drop", **options))


def _visible(directory):
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def test_drops_one_whole_file_named_by_case_sequence_and_id(tmp_path):
    transport = _transport(tmp_path)
    m = message("case/1 ü", 7)

    result = transport.send(m)

    assert result.outcome is SendOutcome.ACCEPTED
    [name] = _visible(transport.directory)
    assert name == drop_name(m)
    assert name.endswith(f".0000000007.{m.message_id}.xml")
    assert "/" not in name
    assert (transport.directory / name).read_bytes() == m.body
    assert not [p for p in transport.directory.iterdir() if p.name.endswith(".tmp")]


def test_names_sort_in_sequence_order_within_a_case(tmp_path):
    names = [drop_name(message("c", s)) for s in (1, 2, 10, 100)]

    assert names == sorted(names)


def test_a_second_delivery_is_a_duplicate_and_does_not_overwrite(tmp_path):
    transport = _transport(tmp_path)
    m = message()
    transport.send(m)
    path = transport.directory / drop_name(m)
    path.write_bytes(b"the reader's copy")

    assert transport.send(m).outcome is SendOutcome.DUPLICATE
    assert path.read_bytes() == b"the reader's copy"


def test_the_ledger_remembers_ids_after_the_reader_took_the_file(tmp_path):
    transport = _transport(tmp_path)
    m = message()
    transport.send(m)
    (transport.directory / drop_name(m)).unlink()  # picked up by the national system

    assert transport.send(m).outcome is SendOutcome.DUPLICATE
    assert _visible(transport.directory) == []


def test_without_ledger_only_the_file_tells(tmp_path):
    transport = _transport(tmp_path, ledger=False, fsync=False)
    m = message()
    transport.send(m)
    (transport.directory / drop_name(m)).unlink()

    assert transport.send(m).outcome is SendOutcome.ACCEPTED


def test_concurrent_sends_of_one_id_accept_exactly_one(tmp_path):
    transport = _transport(tmp_path, ledger=False)
    m = message(body=b"x" * 200_000)
    results = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        results.append(transport.send(m).outcome)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results).count(SendOutcome.ACCEPTED) == 1
    assert len(results) == 8
    assert (transport.directory / drop_name(m)).read_bytes() == m.body
    assert [p.name for p in transport.directory.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_directory_is_transient_not_a_rejection(tmp_path):
    transport = _transport(tmp_path)
    transport.directory.chmod(0o500)
    try:
        with pytest.raises(TransientDeliveryError) as raised:
            transport.send(message())
    finally:
        transport.directory.chmod(0o700)
    assert raised.value.code.startswith("os-")


def test_a_write_failure_is_transient_and_leaves_nothing(tmp_path, monkeypatch):
    transport = _transport(tmp_path)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(TransientDeliveryError) as raised:
        transport.send(message())
    assert raised.value.code == "os-ENOSPC"
    assert [p.name for p in transport.directory.iterdir() if p.is_file()] == []


def test_long_or_hidden_keys_get_a_hashed_name(tmp_path):
    assert "k" * 81 not in drop_name(message("k" * 300))
    assert len(drop_name(message("k" * 300))) < 140
    assert not drop_name(message(".hidden")).startswith(".")
    assert drop_name(message("a" * 300)) != drop_name(message("a" * 301))
