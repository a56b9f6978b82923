"""TX-001: free text that a spreadsheet would run as a formula."""

from __future__ import annotations

import sys
import timeit
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.events import models as m
from gateway.events.models import Severity
from gateway.validation.rules.hygiene import _SUSPECT_FIRST
from tests.unit.validation.support import DEFAULT_ENGINE, T, ev, paths, run


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ('=HYPERLINK("http://x")', True),
        ("+31 20 123", True),
        ("-2+3", True),
        ("@SUM(A1:A2)", True),
        ("  =1+1", True),  # after leading white space
        ("\t=1+1", True),
        ("\tplain", True),  # OWASP: a leading tab or carriage return
        ("\rplain", True),
        ("\n =cmd", True),
        ("End of school term", False),
        ("e-mail", False),  # a sign inside the text is harmless
        ("", False),
        ("   ", False),
    ],
)
def test_tx001_formula_prefixes(text, fires):
    event = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"reason_text": text})
    found = run("TX-001", event)
    assert [f.path for f in found] == (["payload.reason_text"] if fires else [])
    assert all(f.severity is Severity.WARNING and f.legal_reference.startswith("none") for f in found)


def test_tx001_nested_and_repeated_text():
    budget = (
        m.BudgetLine(description="Shop", amount_eur=Decimal("-5.00")),  # a negative amount is not text
        m.BudgetLine(description="=2*3", amount_eur=Decimal("1.00")),
    )
    event = ev(T.REINTEGRATION_REFERRAL, {"budget_lines": budget, "partner": "@partner"})
    assert paths("TX-001", event) == ["payload.partner", "payload.budget_lines[1].description"]
    names = ev(T.RETURN_DECISION_ISSUED, {"identity.surnames": ("Doe", "-Smith"), "identity.place_of_birth": "+x"})
    assert paths("TX-001", names) == ["payload.identity.surnames[1]", "payload.identity.place_of_birth"]


def test_tx001_codes_are_not_text():
    # Code fields are checked by the code-list rules; a sign there is a code error, not a formula warning.
    event = ev(T.RETURN_DECISION_ISSUED, {"country_of_return": "-MA", "identity.nationalities": ("=X",)})
    assert paths("TX-001", event) == []


@given(st.text(max_size=20))
def test_tx001_flags_exactly_the_formula_prefixes(text):
    event = ev(T.VOLUNTARY_DEPARTURE_EXTENDED, {"reason_text": text})
    expected = text[:1] in ("\t", "\r") or text.lstrip()[:1] in ("=", "+", "-", "@")
    assert paths("TX-001", event) == (["payload.reason_text"] if expected else [])


def test_tx001_cost_on_a_clean_record():
    # The rule engine costs about 10 µs a record; the rule must stay a small part of it.
    event = ev(T.RETURN_DECISION_ISSUED)
    assert paths("TX-001", event) == []
    rule = next(b for b in DEFAULT_ENGINE.rules if b.rule.id == "TX-001")
    check, params = rule.rule.check, rule.params
    n = 20_000
    # The check reads nothing from the context for clean text; a generous bound, as CI machines are shared.
    seconds = timeit.timeit(lambda: check(event, None, params), number=n)
    assert seconds / n < 20e-6


def test_every_white_space_character_is_looked_at():
    # The fast pass looks only at the first character; leading white space of any kind must send it further.
    every = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert every <= _SUSPECT_FIRST
