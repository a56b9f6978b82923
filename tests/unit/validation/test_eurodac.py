"""Boundary tests of the Eurodac rules (Reg. 2024/1358)."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.events.models import (
    AvrrRecord,
    AvrrStatus,
    DatePrecision,
    EurodacCategory,
    MemberState,
    PartialDate,
    SecurityGround,
    Severity,
)
from gateway.validation.state import CaseState
from tests.unit.validation.support import NOW, T, d, engine, ev, paths, run, ts


@pytest.mark.parametrize(
    ("state", "fires"), [(MemberState.NL, False), (MemberState.CH, False), (MemberState.UNKNOWN, True)]
)
def test_eu001_granting_member_state(state, fires):
    event = ev(T.ASSISTANCE_GRANTED, {"granting_member_state": state})
    assert paths("EU-001", event) == (["payload.granting_member_state"] if fires else [])


def test_eu001_configured_states():
    eng = engine({"rules": {"EU-001": {"params": {"allowed": ["BE"]}}}})
    assert paths("EU-001", ev(T.ASSISTANCE_GRANTED), eng=eng) == ["payload.granting_member_state"]


@pytest.mark.parametrize(
    ("grant", "member_state", "now", "fires"),
    [
        ("2026-09-02", MemberState.NL, NOW, False),
        ("2026-09-03", MemberState.NL, NOW, True),
        # 23:30 UTC on 11 March is already 12 March in Amsterdam (UTC+1) but still 11 March in Lisbon (UTC+0).
        ("2026-03-12", MemberState.NL, ts("2026-03-11T23:30:00+00:00"), False),
        ("2026-03-12", MemberState.PT, ts("2026-03-11T23:30:00+00:00"), True),
        # The same instant written in another offset changes nothing.
        ("2026-03-12", MemberState.NL, ts("2026-03-11T18:30:00-05:00"), False),
    ],
)
def test_eu002_grant_date_not_in_future(grant, member_state, now, fires):
    event = ev(
        T.ASSISTANCE_GRANTED, {"grant_date": d(grant), "application_date": d("2026-03-01")}, member_state=member_state
    )
    assert paths("EU-002", event, now=now) == (["payload.grant_date"] if fires else [])


@pytest.mark.parametrize(
    ("grant", "applied", "state", "fires"),
    [
        ("2026-03-12", "2026-03-12", CaseState(), False),
        ("2026-03-11", "2026-03-12", CaseState(), True),
        ("2026-03-12", None, CaseState(assistance_applied_on=d("2026-03-13")), True),
        ("2026-03-12", None, CaseState(assistance_applied_on=d("2026-03-12")), False),
        ("2026-03-12", None, CaseState(), False),
    ],
)
def test_eu003_grant_not_before_application(grant, applied, state, fires):
    event = ev(T.ASSISTANCE_GRANTED, {"grant_date": d(grant), "application_date": d(applied) if applied else None})
    assert paths("EU-003", event, state=state) == (["payload.grant_date"] if fires else [])


@pytest.mark.parametrize(("ref", "fires"), [("", True), ("   ", True), ("NL-AVRR-2026", False)])
def test_eu004_programme_reference(ref, fires):
    event = ev(T.ASSISTANCE_GRANTED, {"programme_reference": ref})
    assert paths("EU-004", event) == (["payload.programme_reference"] if fires else [])


def dob(year=None, month=None, day=None, precision=DatePrecision.DAY) -> PartialDate:
    return PartialDate(year=year, month=month, day=day, precision=precision)


Y, M, U = DatePrecision.YEAR, DatePrecision.MONTH, DatePrecision.UNKNOWN


@pytest.mark.parametrize(
    ("birth", "taken", "leap_rule", "fires"),
    [
        (dob(2020, 3, 1), "2026-03-01", "MARCH_1", False),  # turns 6 on the capture day: is 6
        (dob(2020, 3, 2), "2026-03-01", "MARCH_1", True),  # turns 6 the day after
        (dob(2020, 2, 29), "2026-02-28", "MARCH_1", True),  # leap-day birth, common year: birthday is 1 March
        (dob(2020, 2, 29), "2026-03-01", "MARCH_1", False),
        (dob(2020, 2, 29), "2026-02-28", "FEBRUARY_28", False),
        (dob(2020, 2, 29), "2026-02-27", "FEBRUARY_28", True),
        (dob(2022, 2, 28), "2028-02-28", "MARCH_1", False),
        (dob(2020, precision=Y), "2026-12-30", "MARCH_1", True),  # year only: read as 31 December 2020
        (dob(2020, precision=Y), "2026-12-31", "MARCH_1", False),
        (dob(2020, 2, precision=M), "2026-02-28", "MARCH_1", True),  # read as 29 February 2020
        (dob(2020, 2, precision=M), "2026-03-01", "MARCH_1", False),
        (dob(2021, 4, precision=M), "2027-04-30", "MARCH_1", False),
        (dob(2021, 4, precision=M), "2027-04-29", "MARCH_1", True),
        (dob(precision=U), "2026-03-01", "MARCH_1", False),  # unknown: not reported by default
    ],
)
def test_eu005_minimum_age(birth, taken, leap_rule, fires):
    eng = engine({"rules": {"EU-005": {"params": {"leap_day_birthday": leap_rule}}}})
    event = ev(T.BIOMETRICS_CAPTURED, {"identity.date_of_birth": birth, "biometrics_taken_on": d(taken)})
    assert paths("EU-005", event, eng=eng) == (["payload.biometrics_taken_on"] if fires else [])


def test_eu005_unknown_birth_date_flagged_on_request():
    eng = engine({"rules": {"EU-005": {"params": {"flag_unknown_birth_date": True}}}})
    event = ev(T.BIOMETRICS_CAPTURED, {"identity.date_of_birth": dob(precision=U)})
    assert paths("EU-005", event, eng=eng) == ["payload.identity.date_of_birth"]


def test_eu005_configured_age():
    eng = engine({"rules": {"EU-005": {"params": {"min_age_years": 14}}}})
    event = ev(
        T.BIOMETRICS_CAPTURED, {"identity.date_of_birth": dob(2012, 3, 2), "biometrics_taken_on": d("2026-03-01")}
    )
    assert paths("EU-005", event, eng=eng) == ["payload.biometrics_taken_on"]


REG = ts("2026-03-01T14:00:00+00:00")
H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("category", "transmitted", "now", "fires"),
    [
        (EurodacCategory.APPLICANT, REG + 72 * H, NOW, False),
        (EurodacCategory.APPLICANT, REG + 72 * H + S, NOW, True),
        (EurodacCategory.IRREGULAR_CROSSING, REG + 73 * H, NOW, True),
        (EurodacCategory.TEMPORARY_PROTECTION, REG + 240 * H, NOW, False),
        (EurodacCategory.TEMPORARY_PROTECTION, REG + 240 * H + S, NOW, True),
        (EurodacCategory.NATIONAL_RESETTLEMENT, REG + 1000 * H, NOW, False),
        (EurodacCategory.APPLICANT, None, REG + 72 * H, False),  # not sent yet, deadline not passed
        (EurodacCategory.APPLICANT, None, REG + 72 * H + S, True),
        # The deadline instant written in UTC+2 is the same instant: compared in UTC.
        (EurodacCategory.APPLICANT, (REG + 72 * H).astimezone(dt.timezone(2 * H)), NOW, False),
    ],
)
def test_eu006_transmission_deadline(category, transmitted, now, fires):
    event = ev(T.BIOMETRICS_CAPTURED, {"category": category, "registered_at": REG, "transmitted_at": transmitted})
    assert paths("EU-006", event, now=now) == (["payload.transmitted_at"] if fires else [])


def test_eu006_configured_deadline_keeps_other_defaults():
    eng = engine({"rules": {"EU-006": {"params": {"hours": {"APPLICANT": 24}}}}})
    late = ev(
        T.BIOMETRICS_CAPTURED,
        {"category": EurodacCategory.APPLICANT, "registered_at": REG, "transmitted_at": REG + 25 * H},
    )
    tp = ev(
        T.BIOMETRICS_CAPTURED,
        {"category": EurodacCategory.TEMPORARY_PROTECTION, "registered_at": REG, "transmitted_at": REG + 239 * H},
    )
    assert paths("EU-006", late, eng=eng) == ["payload.transmitted_at"]
    assert paths("EU-006", tp, eng=eng) == []


@pytest.mark.parametrize(
    ("grounds", "expected"),
    [
        ((), []),
        ((SecurityGround.VIOLENT, SecurityGround.EAW_LISTED_OFFENCE), []),
        ((SecurityGround.UNKNOWN,), ["payload.security_grounds[0]"]),
        ((SecurityGround.VIOLENT, SecurityGround.VIOLENT), ["payload.security_grounds"]),
    ],
)
def test_eu007_security_grounds(grounds, expected):
    assert paths("EU-007", ev(T.BIOMETRICS_CAPTURED, {"security_grounds": grounds})) == expected


@pytest.mark.parametrize(
    ("category", "article", "expected"),
    [
        (EurodacCategory.ILLEGAL_STAY, "Art. 23(1)", []),
        (EurodacCategory.ILLEGAL_STAY, "Art. 23", []),
        (EurodacCategory.ILLEGAL_STAY, "Art. 22(1)", ["payload.article"]),
        (EurodacCategory.ILLEGAL_STAY, "Art. 230", ["payload.article"]),
        (EurodacCategory.TEMPORARY_PROTECTION, "Art. 26(1)", []),
        (EurodacCategory.UNKNOWN, "Art. 23(1)", ["payload.category"]),
    ],
)
def test_eu008_article_matches_category(category, article, expected):
    assert paths("EU-008", ev(T.BIOMETRICS_CAPTURED, {"category": category, "article": article})) == expected


@pytest.mark.parametrize(
    ("avrr", "expected"),
    [
        (None, []),
        (AvrrRecord(granted=True, granting_member_state=MemberState.BE, granted_on=d("2026-09-02")), []),
        (AvrrRecord(granted=True, granting_member_state=MemberState.UNKNOWN), ["payload.avrr.granting_member_state"]),
        (
            AvrrRecord(granted=True, granting_member_state=MemberState.BE, granted_on=d("2026-09-03")),
            ["payload.avrr.granted_on"],
        ),
        (AvrrRecord(granted=False, granting_member_state=MemberState.UNKNOWN), []),
    ],
)
def test_eu009_hit_avrr(avrr, expected):
    assert paths("EU-009", ev(T.EURODAC_HIT_RECEIVED, {"avrr": avrr})) == expected


@pytest.mark.parametrize(
    ("granted", "status", "checked"),
    [
        (True, None, True),  # written before schema v2: the flag decides
        (False, None, False),
        (True, AvrrStatus.GRANTED, True),
        (False, AvrrStatus.GRANTED, True),  # the status decides; EU-010 reports the contradiction
        (True, AvrrStatus.APPLIED, False),
        (False, AvrrStatus.REFUSED, False),
        (False, AvrrStatus.WITHDRAWN, False),
        (True, AvrrStatus.UNKNOWN, False),
    ],
)
def test_eu009_reads_the_status_before_the_flag(granted, status, checked):
    avrr = AvrrRecord(granted=granted, granting_member_state=MemberState.UNKNOWN, status=status)
    expected = ["payload.avrr.granting_member_state"] if checked else []
    assert paths("EU-009", ev(T.EURODAC_HIT_RECEIVED, {"avrr": avrr})) == expected


@pytest.mark.parametrize(
    ("granted", "status", "fires"),
    [
        (True, AvrrStatus.GRANTED, False),
        (False, AvrrStatus.GRANTED, True),
        (False, AvrrStatus.APPLIED, False),
        (True, AvrrStatus.APPLIED, True),
        (False, AvrrStatus.REFUSED, False),
        (True, AvrrStatus.REFUSED, True),
        (False, AvrrStatus.WITHDRAWN, False),
        (True, AvrrStatus.WITHDRAWN, True),
        (True, AvrrStatus.UNKNOWN, False),
        (False, AvrrStatus.UNKNOWN, False),
        (True, None, False),
        (False, None, False),
    ],
)
def test_eu010_avrr_status_agrees_with_granted(granted, status, fires):
    avrr = AvrrRecord(granted=granted, granting_member_state=MemberState.BE, status=status)
    assert paths("EU-010", ev(T.EURODAC_HIT_RECEIVED, {"avrr": avrr})) == (["payload.avrr.status"] if fires else [])


def test_eu010_is_an_error_naming_both_values():
    avrr = AvrrRecord(granted=True, granting_member_state=MemberState.BE, status=AvrrStatus.REFUSED)
    [finding] = run("EU-010", ev(T.EURODAC_HIT_RECEIVED, {"avrr": avrr}))
    assert finding.severity is Severity.ERROR
    assert "REFUSED, which requires granted = false, but granted is true" in finding.message
    assert finding.legal_reference == "Reg. 2024/1358 Art. 16-17 (point to be confirmed)"
    assert run("EU-010", ev(T.EURODAC_HIT_RECEIVED, {"avrr": None})) == []
