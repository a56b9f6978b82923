"""Boundary tests of the code-list and date rules."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.errors import MappingError
from gateway.events.models import DatePrecision, MemberState, PartialDate, Sex, TravelDocumentType
from gateway.validation.catalogue import default_rules
from gateway.validation.codelists import load_country_codes
from gateway.validation.rules.codes_and_dates import member_state_refusal
from tests.unit.validation.support import NOW, T, d, engine, ev, paths, run, ts

NAT = "payload.identity.nationalities"
ISSUER = "payload.identity.travel_document.issuing_country"
IDENTITY_TYPES = [T.RETURN_DECISION_ISSUED, T.BIOMETRICS_CAPTURED, T.REINTEGRATION_REFERRAL]


@pytest.mark.parametrize("event_type", IDENTITY_TYPES)
@pytest.mark.parametrize(
    ("codes", "bad"),
    [
        (("MAR",), []),
        (("XXA", "XXB", "XXC", "XXX"), []),  # stateless, refugees, unspecified
        (("D", "GBD", "GBN", "GBO", "GBP", "GBS", "UNK"), []),
        (("UNO",), [0]),  # an issuing organisation, not a nationality
        (("XKX",), [0]),  # not ISO, not ICAO: needs extra_codes
        (("mar", "MA", "MAR"), [0, 1]),
        (("ZZZ",), [0]),
    ],
)
def test_cd001_nationality_codes(event_type, codes, bad):
    assert paths("CD-001", ev(event_type, {"identity.nationalities": codes})) == [f"{NAT}[{i}]" for i in bad]


def test_cd001_configured_codes():
    eng = engine({"rules": {"CD-001": {"params": {"accept_icao_codes": False, "extra_codes": ["XKX"]}}}})
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("XKX", "XXA", "MAR")})
    assert paths("CD-001", event, eng=eng) == [f"{NAT}[1]"]


@pytest.mark.parametrize(
    ("issuer", "fires"),
    [
        ("MAR", False),
        ("D", False),
        ("UNO", False),
        ("EUE", False),
        ("XOM", False),
        ("XPO", False),
        ("GBD", False),
        ("XXA", True),
        ("XXX", True),
        ("XKX", True),
        ("DEU", False),
        ("", True),
    ],
)
def test_cd002_document_issuer(issuer, fires):
    event = ev(T.BIOMETRICS_CAPTURED, {"identity.travel_document.issuing_country": issuer})
    assert paths("CD-002", event) == ([ISSUER] if fires else [])


@pytest.mark.parametrize(
    ("event_type", "field", "code", "fires"),
    [
        (T.RETURN_DECISION_ISSUED, "country_of_return", "MAR", False),
        (T.RETURN_DECISION_ISSUED, "country_of_return", None, False),
        (T.RETURN_DECISION_ISSUED, "country_of_return", "XXA", True),
        (T.RETURN_DECISION_ISSUED, "country_of_return", "MA", True),
        (T.REINTEGRATION_REFERRAL, "country_of_return", "ZZZ", True),
        (T.DEPARTURE_CONFIRMED, "destination_country", "TUR", False),
        (T.DEPARTURE_CONFIRMED, "destination_country", "UNO", True),
    ],
)
def test_cd003_destination_codes(event_type, field, code, fires):
    assert paths("CD-003", ev(event_type, {field: code})) == ([f"payload.{field}"] if fires else [])


def test_cd004_member_state_codes():
    assert paths("CD-004", ev(T.ENTRY_RECORDED, member_state=MemberState.UNKNOWN)) == ["member_state"]
    assert paths("CD-004", ev(T.ENTRY_RECORDED)) == []
    hit = ev(T.EURODAC_HIT_RECEIVED, {"hit_member_state": MemberState.UNKNOWN})
    assert paths("CD-004", hit) == ["payload.hit_member_state"]


@pytest.mark.parametrize(("sex", "fires"), [(Sex.UNKNOWN, True), (Sex.UNSPECIFIED, False), (Sex.FEMALE, False)])
def test_cd005_sex_code(sex, fires):
    assert paths("CD-005", ev(T.BIOMETRICS_CAPTURED, {"identity.sex": sex})) == (
        ["payload.identity.sex"] if fires else []
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"identity.travel_document.type": TravelDocumentType.UNKNOWN}, ["payload.identity.travel_document.type"]),
        ({"identity.travel_document.number": " "}, ["payload.identity.travel_document.number"]),
        ({"identity.travel_document": None}, []),
    ],
)
def test_cd006_travel_document(changes, expected):
    assert paths("CD-006", ev(T.RETURN_DECISION_ISSUED, changes)) == expected


def test_cd006_configured_types():
    eng = engine({"rules": {"CD-006": {"params": {"allowed": ["PASSPORT"]}}}})
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.travel_document.type": TravelDocumentType.VISA})
    assert paths("CD-006", event, eng=eng) == ["payload.identity.travel_document.type"]


DAY, MONTH, YEAR, UNK = DatePrecision.DAY, DatePrecision.MONTH, DatePrecision.YEAR, DatePrecision.UNKNOWN


@pytest.mark.parametrize(
    ("y", "m", "dd", "precision", "fires"),
    [
        (2000, 2, 29, DAY, False),  # leap year (divisible by 400)
        (2001, 2, 29, DAY, True),
        (1900, 2, 29, DAY, True),  # not a leap year (divisible by 100)
        (2024, 2, 29, DAY, False),
        (1994, 4, 31, DAY, True),
        (1994, 12, 31, DAY, False),
        (1994, 13, None, MONTH, True),
        (1994, 0, None, MONTH, True),
        (1994, 7, None, MONTH, False),
        (1994, 7, 3, MONTH, True),  # precision says MONTH but a day is given
        (1994, None, None, YEAR, False),
        (1994, 7, None, YEAR, True),
        (None, None, None, UNK, False),
        (1994, None, None, UNK, True),
        (1994, 7, None, DAY, True),
        (1899, None, None, YEAR, True),  # before min_year
        (1900, None, None, YEAR, False),
    ],
)
def test_cd007_partial_birth_date(y, m, dd, precision, fires):
    birth = PartialDate(year=y, month=m, day=dd, precision=precision)
    event = ev(T.RETURN_DECISION_ISSUED, {"identity.date_of_birth": birth})
    assert paths("CD-007", event) == (["payload.identity.date_of_birth"] if fires else [])


SKEW = dt.timedelta(seconds=300)


@pytest.mark.parametrize(
    ("event_type", "changes", "now", "expected"),
    [
        (T.RETURN_DECISION_ISSUED, {"decision_date": d("2026-09-02")}, NOW, []),
        (T.RETURN_DECISION_ISSUED, {"decision_date": d("2026-09-03")}, NOW, ["payload.decision_date"]),
        (T.RETURN_DECISION_ISSUED, {"identity.date_of_birth": PartialDate(year=2026, precision=YEAR)}, NOW, []),
        (
            T.RETURN_DECISION_ISSUED,
            {"identity.date_of_birth": PartialDate(year=2027, precision=YEAR)},
            NOW,
            ["payload.identity.date_of_birth"],
        ),
        (
            T.RETURN_DECISION_ISSUED,
            {"identity.travel_document.issue_date": d("2026-09-03")},
            NOW,
            ["payload.identity.travel_document.issue_date"],
        ),
        (T.DEPARTURE_CONFIRMED, {"departed_at": NOW + SKEW}, NOW, []),
        (T.DEPARTURE_CONFIRMED, {"departed_at": NOW + SKEW + dt.timedelta(seconds=1)}, NOW, ["payload.departed_at"]),
        (T.NON_RETURN_RECORDED, {"period_last_day": d("2026-09-03")}, NOW, ["payload.period_last_day"]),
        (T.ASSISTANCE_REFUSED, {"refusal_date": d("2026-09-03")}, NOW, ["payload.refusal_date"]),
        (T.BIOMETRICS_CAPTURED, {"biometrics_taken_on": d("2026-09-03")}, NOW, ["payload.biometrics_taken_on"]),
        (T.ENTRY_RECORDED, {"entered_at": ts("2026-09-02T14:00:00+02:00")}, NOW, []),  # 12:00 UTC: now
        (T.REINTEGRATION_STATUS_CHANGED, {"arrival_date": d("2026-09-03")}, NOW, ["payload.arrival_date"]),
        (T.VOLUNTARY_DEPARTURE_EXTENDED, {"new_last_day": d("2027-01-01")}, NOW, []),  # may lie ahead
    ],
)
def test_cd008_facts_not_in_future(event_type, changes, now, expected):
    assert paths("CD-008", ev(event_type, changes), now=now) == expected


@pytest.mark.parametrize(
    ("member_state", "decision", "expected"),
    [
        # 23:30 UTC on 1 March is 00:30 on 2 March in Amsterdam: a decision dated 2 March is not in the future.
        (MemberState.NL, "2026-03-02", []),
        (MemberState.NL, "2026-03-03", ["payload.decision_date"]),
        # ... but it is in Lisbon, where it is still 23:30 on 1 March.
        (MemberState.PT, "2026-03-02", ["payload.decision_date"]),
        (MemberState.PT, "2026-03-01", []),
    ],
)
def test_cd008_midnight_in_member_state_zone(member_state, decision, expected):
    now = ts("2026-03-01T23:30:00+00:00")
    changes = {"decision_date": d(decision), "identity.travel_document.issue_date": None}
    event = ev(T.RETURN_DECISION_ISSUED, changes, member_state=member_state, occurred_at=now, recorded_at=now)
    assert paths("CD-008", event, now=now) == expected


def test_cd008_occurred_at_in_future():
    event = ev(T.ENTRY_RECORDED, occurred_at=NOW + dt.timedelta(hours=1), recorded_at=NOW + dt.timedelta(hours=1))
    assert paths("CD-008", event) == ["occurred_at"]


@pytest.mark.parametrize(
    ("occurred", "recorded", "fires"),
    [
        ("2026-03-02T09:30:00+00:00", "2026-03-02T09:30:00+00:00", False),
        ("2026-03-02T09:35:00+00:00", "2026-03-02T09:30:00+00:00", False),  # within the skew
        ("2026-03-02T09:35:01+00:00", "2026-03-02T09:30:00+00:00", True),
        ("2026-03-02T11:00:00+02:00", "2026-03-02T09:30:00+00:00", False),  # 09:00 UTC
    ],
)
def test_cd009_recorded_after_occurred(occurred, recorded, fires):
    event = ev(T.ENTRY_RECORDED, occurred_at=ts(occurred), recorded_at=ts(recorded))
    assert paths("CD-009", event) == (["occurred_at"] if fires else [])


@pytest.mark.parametrize(
    ("issue", "expiry", "fires"),
    [
        ("2021-05-04", "2031-05-03", False),
        ("2021-05-04", "2021-05-04", False),
        ("2021-05-04", "2021-05-03", True),
        (None, "2021-05-03", False),
    ],
)
def test_cd010_document_dates(issue, expiry, fires):
    changes = {
        "identity.travel_document.issue_date": d(issue) if issue else None,
        "identity.travel_document.expiry_date": d(expiry),
    }
    expected = ["payload.identity.travel_document.expiry_date"] if fires else []
    assert paths("CD-010", ev(T.RETURN_DECISION_ISSUED, changes)) == expected


KOSOVO = {"rules": {k: {"params": {"extra_codes": ["XKX"]}} for k in ("CD-001", "CD-002", "CD-003")}}


@pytest.mark.parametrize(
    ("rule_id", "event_type", "field", "value", "path"),
    [
        ("CD-001", T.RETURN_DECISION_ISSUED, "identity.nationalities", ("XKX",), f"{NAT}[0]"),
        ("CD-002", T.RETURN_DECISION_ISSUED, "identity.travel_document.issuing_country", "RKS", ISSUER),
        ("CD-003", T.RETURN_DECISION_ISSUED, "country_of_return", "XKX", "payload.country_of_return"),
    ],
)
def test_kosovo_refusal_names_the_setting_and_xkx_accepts_rks(rule_id, event_type, field, value, path):
    event = ev(event_type, {field: value})
    (finding,) = run(rule_id, event)
    assert finding.path == path
    assert f"rules.{rule_id}.params.extra_codes" in finding.message
    assert "GATEWAY_RULES_CONFIG" in finding.message
    rks = ev(event_type, {field: ("RKS",) if isinstance(value, tuple) else "RKS"})
    assert paths(rule_id, event, eng=engine(KOSOVO)) == []
    assert paths(rule_id, rks, eng=engine(KOSOVO)) == []  # the code on Kosovo passports, compared as XKX


def test_rks_configured_accepts_xkx():
    eng = engine({"rules": {"CD-001": {"params": {"extra_codes": ["RKS"]}}}})
    assert paths("CD-001", ev(T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("XKX", "RKS")}), eng=eng) == []


def test_d_is_accepted_and_compared_as_deu():
    codes = load_country_codes()
    assert codes.canonical("D") == "DEU"
    assert codes.canonical("RKS") == "XKX"
    assert codes.canonical("MAR") == "MAR"
    event = ev(
        T.RETURN_DECISION_ISSUED, {"identity.nationalities": ("D",), "identity.travel_document.issuing_country": "D"}
    )
    assert paths("CD-001", event) == paths("CD-002", event) == []


@pytest.mark.parametrize(
    ("code", "granting", "rule_id", "uk"),
    [
        ("GB", True, "EU-001", True),
        ("UK", True, "EU-001", True),
        ("GBR", False, "CD-004", True),
        ("TR", False, "CD-004", False),
    ],
)
def test_member_state_refusal_carries_rule_id_and_legal_reference(code, granting, rule_id, uk):
    error = member_state_refusal(code, "Bewilligender_Staat", granting=granting)
    assert isinstance(error, MappingError)
    assert error.rule_ids == (rule_id,)
    rule = next(r for r in default_rules() if r.id == rule_id)
    assert error.legal_references == (str(rule.legal),)
    assert error.message.startswith(f"{rule_id} Bewilligender_Staat: {code!r}")
    assert ("left the EU" in error.message) is uk
