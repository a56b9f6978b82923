from __future__ import annotations

import json
from pathlib import Path

from gateway.outbound.state import OUTBOUND_NAMESPACE, OUTBOUND_SCHEMA_DIR, OutboundSubject, subject_codec
from gateway.state.model_schema import avro_named_types, write_schema_files


def test_the_committed_schema_is_the_one_the_models_derive(tmp_path: Path) -> None:
    """A model change must be written out (and so meet the evolution gate) before it ships."""
    derived = avro_named_types(OutboundSubject, OUTBOUND_NAMESPACE)
    committed = {p.stem: json.loads(p.read_text()) for p in OUTBOUND_SCHEMA_DIR.glob("*.avsc")}
    assert committed == derived, (
        "schemas/avro/outbound is stale: run "
        "`python -c 'from gateway.state.model_schema import write_schema_files as w; "
        "from gateway.outbound.state import *; w(OutboundSubject, OUTBOUND_NAMESPACE, OUTBOUND_SCHEMA_DIR)'`"
    )
    assert write_schema_files(OutboundSubject, OUTBOUND_NAMESPACE, tmp_path)


def test_an_empty_and_a_filled_subject_round_trip() -> None:
    from gateway.monitor.monitor import MonitorDecision, MonitorSubjectState

    codec = subject_codec()
    empty = OutboundSubject()
    assert codec.decode(codec.encode(empty)) == empty
    decision = MonitorDecision(member_state="NL", case_reference="C", decision_reference="D", status="OPEN")
    filled, seq = empty.next_sequence("sis", "NL:C")
    filled = filled.model_copy(update={"monitor": MonitorSubjectState(decisions=(decision,)), "documents": ("k",)})
    assert seq == 1
    assert filled.next_sequence("sis", "NL:C")[1] == 2
    assert filled.next_sequence("eurodac", "NL:C")[1] == 1
    assert codec.decode(codec.encode(filled)) == filled
