"""The generated stories: RIAT receives exactly the expected messages, byte-stable and valid against the schema."""

from __future__ import annotations

import json

import pytest

from gateway.adapters.riat import Rendered, RiatConfig, render, riat_step
from gateway.samples.riat_stories import riat_stories
from tests.unit.adapters.riat.support import REFERRAL_SCHEMA, run, validator

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_story_sends_exactly_the_expected_messages(seed: int):
    for story in riat_stories(seed):
        _, got = run(list(story.events))
        assert got == [(x.kind, x.document) for x in story.messages], story.name


def test_stories_cover_what_the_issue_asks_for():
    stories = {s.name: s for s in riat_stories(0)}
    assert set(stories) == {
        "consent-after-decision",
        "referral-before-decision",
        "consent-refused",
        "consent-later",
        "duplicate-referral",
        "feed-noise",
    }
    assert [m.kind for m in stories["consent-after-decision"].messages] == [
        "CASE_CREATION",
        "KM1_APPLICATION",
        "KM1_UPDATE",
    ]
    assert stories["consent-refused"].messages == ()
    assert {s.expect for st in stories.values() for s in st.statuses} == {"event", "review", "dead_letter"}


@pytest.mark.parametrize("seed", SEEDS)
def test_bodies_are_schema_valid_deterministic_and_float_free(seed: int):
    check = validator(REFERRAL_SCHEMA)
    config = RiatConfig()

    def no_float(text: str) -> float:
        raise AssertionError(f"a float in a RIAT body: {text}")

    for story in riat_stories(seed):
        state = None
        for e in story.events:
            step = riat_step(state, e, config)
            state = step.state
            for message in step.messages:
                first, again = render(message, config), render(message, config)
                assert isinstance(first, Rendered)
                assert first == again
                document = json.loads(first.body, parse_float=no_float)
                check.validate(document)
                # keys sorted and compact: the bytes are the canonical dump of the document
                assert (
                    first.body
                    == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
                )


def test_expected_documents_follow_the_configured_texts():
    config = RiatConfig(member_state_organisation="COA Return Desk", default_project="Project X")
    story = riat_stories(1, config=config)[0]
    _, got = run(list(story.events), config)
    assert got == [(x.kind, x.document) for x in story.messages]
    assert got[0][1]["case"]["member_state_organisation"] == "COA Return Desk"
    assert got[0][1]["case"]["project"] == "Project X"
