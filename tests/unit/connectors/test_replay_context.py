"""A CSV row replayed from its dead letter is read with its file's header line and encoding, not assumed ones."""

from __future__ import annotations

import csv
import io

from gateway.connectors import discovery
from gateway.dlq import headers as H
from gateway.dlq.tools import DeadLetterRecord, replay_message
from gateway.pipeline.outcome import DeadLetter
from gateway.samples.generate import generate
from gateway.testing.conformance import identity_context


def _reordered_export(connector) -> bytes:
    """A valid export whose columns stand in reverse order (the format allows any order)."""
    buf = io.BytesIO()
    generate(connector, buf, count=40, seed=8)
    text = buf.getvalue().decode("iso-8859-1")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([list(reversed(r)) for r in rows])
    return out.getvalue().encode("iso-8859-1")


def test_replayed_row_maps_like_the_file_row():
    cls = discovery.load("de-csv")
    connector = cls(cls.config_model.model_validate({"member_state": "DE"}))
    ctx = identity_context(connector)
    records = list(connector.read(io.BytesIO(_reordered_export(connector)), "reordered.csv"))
    # The file's own header line travels with each record, and it is not the canonical one.
    assert records[0].context.rstrip(b"\r\n").split(b";")[-1] == b"Aktenzeichen"
    for record in records[:10]:
        from_file = connector.translate(record, ctx)
        dead = DeadLetter(record=record, stage="validate", error_class="x", message="as if rejected")
        headers = H.dead_letter_headers(dead, connector="de-csv", connector_class="c", correlation_id="c", now_ms=0)
        letter = DeadLetterRecord("dlq", 0, record.index, None, record.data, H.as_text(headers), tuple(headers))
        message = replay_message(letter, "raw")
        replayed = connector.from_message(message.value, "raw", "raw/0/1", 1, dict(message.headers))
        assert connector.translate(replayed, ctx) == from_file
        # Without the file's context the row would be read in the canonical column order, and fail.
        bare = connector.from_message(message.value, "raw", "raw/0/1", 1)
        try:
            events = connector.translate(bare, ctx)
        except Exception:
            continue
        assert events != from_file
