"""A connector's refusal of a Member State code names its rule and legal basis on the dead letter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gateway.codec.codec import EventCodec
from gateway.connectors.base import ConnectorConfig, MappingContext, RawRecord
from gateway.connectors.codes import CodeList, CodeTables
from gateway.errors import MappingError
from gateway.events.models import MemberState
from gateway.pipeline.processor import RecordProcessor
from gateway.pipeline.pseudonym import pseudonymiser
from gateway.validation.catalogue import default_rules, legal_references

from .toy import ToyConnector

STATES = CodeList.build(CodeTables({"member_state": {"NL": "NL", "DE": "DE"}}), "member_state", MemberState)


class _RefusingToy(ToyConnector):
    def map(self, parsed: Any) -> list[Any]:
        STATES.canonical(parsed[0], "aide.etatMembreOctroi")
        raise AssertionError("unreachable")  # pragma: no cover


@pytest.mark.parametrize("code", ["GB", "UK", "XX"])
def test_an_unknown_member_state_code_is_refused_under_cd_004(code: str):
    with pytest.raises(MappingError) as caught:
        STATES.canonical(code, "aide.etatMembreOctroi")
    assert caught.value.rule_ids == ("CD-004",)
    assert "aide.etatMembreOctroi" in caught.value.message
    assert ("United Kingdom" in caught.value.message) is (code in ("GB", "UK"))


def test_other_code_lists_refuse_without_a_rule():
    from gateway.events.models import Sex

    sexes = CodeList.build(CodeTables({"sex": {"M": "MALE"}}), "sex", Sex)
    with pytest.raises(MappingError) as caught:
        sexes.canonical("Q", "sexe")
    assert caught.value.rule_ids == ()


def test_the_dead_letter_carries_the_rule_and_its_legal_reference():
    connector = _RefusingToy(ConnectorConfig(member_state=MemberState.NL))
    ctx = MappingContext(
        "toy", "1.0", MemberState.NL, "c", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), pseudonymiser(b"s", "NL")
    )
    outcome = RecordProcessor(connector, ctx, EventCodec()).process(RawRecord(b"UK", "f", "line 1"))
    dead = outcome.dead_letter
    assert dead is not None
    assert dead.stage == "map"
    assert dead.rule_ids == ("CD-004",)
    (rule,) = [r for r in default_rules() if r.id == "CD-004"]
    assert dead.legal_references == (str(rule.legal),)


def test_legal_references_skip_unknown_ids_and_repeat_none():
    assert legal_references(["NOPE-001"]) == ()
    refs = legal_references(["CD-004", "CD-004"])
    assert len(refs) == 1
