"""Mapping and rendering are inverses, for every event type and for values the sample stories never use."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from gw_connector_nl_xml import NlXmlConnector
from gw_connector_nl_xml.mapper import _EVENTS
from gw_connector_nl_xml.renderer import render_fact

from gateway.connectors.base import Fact, RawRecord, SampleRecord
from gateway.errors import MappingError
from gateway.events import models as m
from gateway.testing.conformance import identity_context
from gateway.testing.examples import identity, payloads

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def round_trip(connector: NlXmlConnector, payload: m.Payload) -> list[Fact]:
    fact = Fact("V-2026-000123", "1234567890", AT, payload)
    data = render_fact(fact, connector._codes)
    return connector.map(connector.parse(RawRecord(data=data, source="t", position="p")))


def test_every_payload_type_has_a_record_element() -> None:
    assert len(_EVENTS) == len(m.EVENT_TYPE_OF) == 13


@pytest.mark.parametrize("event_type", list(payloads()))
def test_example_payloads_round_trip(connector: NlXmlConnector, event_type: m.EventType) -> None:
    payload = payloads()[event_type]
    (fact,) = round_trip(connector, payload)  # type: ignore[arg-type]
    assert fact == Fact("V-2026-000123", "1234567890", AT, payload)  # type: ignore[arg-type]


def full_identity() -> m.Identity:
    return identity().model_copy(
        update={
            "surnames": ("EL AMRANI", "BENNANI"),
            "forenames": ("YOUSSEF", "KARIM"),
            "date_of_birth": m.PartialDate(precision=m.DatePrecision.UNKNOWN),
            "sex": m.Sex.UNSPECIFIED,
            "nationalities": ("MAR", "XXA"),
        }
    )


VARIANTS: list[m.Payload] = [
    m.ReturnDecisionIssued(
        decision_reference="IND/RB.2026-1",
        decision_date=dt.date(2026, 3, 2),
        issuing_authority="IND & DT&V <Den Haag>",
        legal_ground=m.LegalGround.PERMIT_WITHDRAWN_OR_EXPIRED,
        voluntary_departure=m.VoluntaryDeparture(
            granted=True,
            first_day=dt.date(2026, 3, 3),
            last_day=dt.date(2026, 3, 6),
            length_days=4,
            shortened_ground=m.ShortPeriodGround.MANIFESTLY_UNFOUNDED_OR_FRAUDULENT_APPLICATION,
        ),
        entry_ban=m.EntryBan(imposed=True, duration_days=1825),
        suspended=True,
        enforcement_postponed=True,
        public_security_threat=True,
        warning_markers=(m.WarningMarker.ARMED, m.WarningMarker.UNKNOWN),
        identity=full_identity(),
    ),
    m.ReturnDecisionStatusChanged(
        decision_reference="X1",
        status=m.DecisionStatus.ANNULLED,
        effective_date=dt.date(2026, 1, 1),
        reason_text="Vernietigd door de rechtbank.\nZie uitspraak.",
    ),
    m.AssistanceGranted(
        programme_reference="P",
        stage=m.ProcedureStage.UNKNOWN,
        components=(),
        granting_member_state=m.MemberState.GR,
        grant_date=dt.date(2026, 1, 1),
    ),
    m.AssistanceRefused(
        programme_reference="P",
        stage=m.ProcedureStage.DETENTION,
        refusal_date=dt.date(2026, 1, 1),
        reason=m.RefusalReason.ABSCONDED,
    ),
    m.ReintegrationReferral(
        referral_id="R",
        partner="Partner é ü 中文",
        country_of_return="AFG",
        consent_obtained=False,
        vulnerability=True,
        family_size=12,
        stage=m.ReintegrationStage.CANCELLED,
    ),
    m.DepartureConfirmed(departed_at=AT, return_type=m.ReturnType.UNKNOWN, assisted=False),
    m.EurodacHitReceived(
        hit_member_state=m.MemberState.CH,
        category=m.EurodacCategory.TEMPORARY_PROTECTION,
        article="Art. 26",
        hit_reference="CH-1",
    ),
    m.EntryRecorded(entered_at=dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC), border_crossing_point="NL-RTM"),
    m.BiometricsCaptured(
        category=m.EurodacCategory.SEARCH_AND_RESCUE,
        article="Art. 24(1)",
        registered_at=AT,
        biometrics_taken_on=dt.date(2026, 3, 1),
        security_grounds=(m.SecurityGround.VIOLENT, m.SecurityGround.EAW_LISTED_OFFENCE),
        identity=m.Identity(date_of_birth=m.PartialDate(year=1990, precision=m.DatePrecision.YEAR), sex=m.Sex.UNKNOWN),
    ),
]


@pytest.mark.parametrize("payload", VARIANTS, ids=lambda p: type(p).__name__)
def test_less_common_values_round_trip(connector: NlXmlConnector, payload: m.Payload) -> None:
    (fact,) = round_trip(connector, payload)
    assert fact.payload == payload


def test_greece_is_written_gr_and_read_from_el_too(connector: NlXmlConnector) -> None:
    payload = VARIANTS[2]
    fact = Fact("V-1", "1234567890", AT, payload)
    data = render_fact(fact, connector._codes)
    assert b"<ToekennendeLidstaat>GR</ToekennendeLidstaat>" in data
    el = data.replace(b">GR<", b">EL<")
    (back,) = connector.map(connector.parse(RawRecord(data=el, source="t", position="p")))
    assert back.payload.granting_member_state == m.MemberState.GR  # type: ignore[union-attr]


def test_forenames_are_one_space_separated_element(connector: NlXmlConnector, by_type: dict[str, SampleRecord]) -> None:
    data = re.sub(
        rb"<Voornamen>[^<]+</Voornamen>",
        b"<Voornamen>Jan  Pieter Kees</Voornamen>",
        by_type["ReturnDecisionIssued"].data,
    )
    (fact,) = connector.map(connector.parse(RawRecord(data=data, source="t", position="p")))
    assert fact.payload.identity.forenames == ("Jan", "Pieter", "Kees")  # type: ignore[union-attr]


def test_forenames_with_a_space_cannot_be_rendered(connector: NlXmlConnector) -> None:
    payload = VARIANTS[0].model_copy(update={"identity": identity().model_copy(update={"forenames": ("Jan Pieter",)})})
    with pytest.raises(ValueError, match="space-separated"):
        render_fact(Fact("V", "1234567890", AT, payload), connector._codes)


def test_characters_xml_cannot_carry_are_refused_when_rendering(connector: NlXmlConnector) -> None:
    payload = VARIANTS[3].model_copy(update={"reason_text": "bell \x07"})
    with pytest.raises(ValueError, match="cannot carry"):
        render_fact(Fact("V", "1234567890", AT, payload), connector._codes)


@pytest.mark.parametrize(
    ("kind", "old", "new", "message"),
    [
        (
            "ReturnDecisionIssued",
            rb"<Grondslag>\w+<",
            b"<Grondslag>ONBEKENDE_GROND<",
            r"unknown legal_ground code 'ONBEKENDE_GROND' in Gebeurtenis/Terugkeerbesluit/Grondslag",
        ),
        ("ReturnDecisionIssued", rb"<Geslacht>\w<", b"<Geslacht>F<", r"unknown sex code 'F' in .*/Persoon/Geslacht"),
        (
            "ReturnDecisionIssued",
            rb"<Geboortedatum>[^<]+<",
            b"<Geboortedatum>1990-00-12<",
            r"Gebeurtenis/Terugkeerbesluit/Persoon/Geboortedatum: '1990-00-12' has a day but no month",
        ),
        (
            "ReturnDecisionIssued",
            rb"<Tijdstip>[^<]+<",
            b"<Tijdstip>2026-03-29T02:15:00<",
            r"Gebeurtenis/Tijdstip: 2026-03-29 02:15:00 does not exist in Europe/Amsterdam",
        ),
        (
            "AssistanceApplied",
            rb"<Soort>REISKOSTEN<",
            b"<Soort>TAXI<",
            r"unknown assistance_type code 'TAXI' in Gebeurtenis/OndersteuningAanvraag/Onderdeel\[2\]/Soort",
        ),
        (
            "DepartureConfirmed",
            rb"<Bewijs>\w+<",
            b"<Bewijs>FOTO<",
            r"unknown departure_evidence code 'FOTO' in Gebeurtenis/Vertrek/Bewijs",
        ),
        (
            "AssistanceGranted",
            rb"<ToekennendeLidstaat>\w+<",
            b"<ToekennendeLidstaat>UK<",
            r"unknown member_state code 'UK' in Gebeurtenis/OndersteuningToegekend/ToekennendeLidstaat",
        ),
    ],
)
def test_mapping_errors_name_the_field(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord], kind: str, old: bytes, new: bytes, message: str
) -> None:
    data = re.sub(old, new, by_type[kind].data, count=1)
    assert data != by_type[kind].data
    parsed = connector.parse(RawRecord(data=data, source="t", position="p"))
    with pytest.raises(MappingError, match=message):
        connector.map(parsed)


# ---- AVRR status in a Eurodac hit (schema v2) ------------------------------------------------------------------


def example_hit(avrr: m.AvrrRecord) -> m.EurodacHitReceived:
    """The example Eurodac hit with another AVRR element."""
    hit = payloads()[m.EventType.EURODAC_HIT_RECEIVED]
    assert isinstance(hit, m.EurodacHitReceived)
    return hit.model_copy(update={"avrr": avrr})


def hit_with_avrr(by_type: dict[str, SampleRecord], inner: bytes) -> bytes:
    """The sample Eurodac hit with its ``TerugkeerOndersteuning`` replaced by ``inner``."""
    data = by_type["EurodacHitReceived"].data
    out = re.sub(rb"<TerugkeerOndersteuning>.*</TerugkeerOndersteuning>", inner, data)
    assert out != data
    return out


def map_hit(connector: NlXmlConnector, data: bytes) -> m.EurodacHitReceived:
    (fact,) = connector.map(connector.parse(RawRecord(data=data, source="t", position="p")))
    assert isinstance(fact.payload, m.EurodacHitReceived)
    return fact.payload


@pytest.mark.parametrize(
    ("code", "granted", "status"),
    [
        ("AANGEVRAAGD", "N", m.AvrrStatus.APPLIED),
        ("TOEGEKEND", "J", m.AvrrStatus.GRANTED),
        ("AFGEWEZEN", "N", m.AvrrStatus.REFUSED),
        ("INGETROKKEN", "N", m.AvrrStatus.WITHDRAWN),
        ("ONBEKEND", "N", m.AvrrStatus.UNKNOWN),
    ],
)
def test_avrr_status_codes_map_to_the_canonical_status(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord], code: str, granted: str, status: m.AvrrStatus
) -> None:
    inner = (
        f"<TerugkeerOndersteuning><Toegekend>{granted}</Toegekend><Lidstaat>BE</Lidstaat>"
        f"<Datum>2025-11-03</Datum><Status>{code}</Status></TerugkeerOndersteuning>"
    ).encode()
    avrr = map_hit(connector, hit_with_avrr(by_type, inner)).avrr
    assert avrr == m.AvrrRecord(
        granted=granted == "J", granting_member_state=m.MemberState.BE, granted_on=dt.date(2025, 11, 3), status=status
    )
    assert avrr is not None
    (back,) = round_trip(connector, example_hit(avrr))
    assert back.payload.avrr == avrr  # type: ignore[union-attr]
    assert f"<Status>{code}</Status>".encode() in render_fact(back, connector._codes)


def test_an_avrr_element_without_status_maps_to_none(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord]
) -> None:
    inner = b"<TerugkeerOndersteuning><Toegekend>J</Toegekend><Lidstaat>DE</Lidstaat></TerugkeerOndersteuning>"
    avrr = map_hit(connector, hit_with_avrr(by_type, inner)).avrr
    assert avrr is not None
    assert avrr == m.AvrrRecord(granted=True, granting_member_state=m.MemberState.DE, status=None)
    data = render_fact(Fact("V", "1234567890", AT, example_hit(avrr)), connector._codes)
    assert b"<Status>" not in data


def test_an_unknown_avrr_status_is_a_dead_letter_naming_the_element(
    connector: NlXmlConnector, by_type: dict[str, SampleRecord]
) -> None:
    inner = (
        b"<TerugkeerOndersteuning><Toegekend>N</Toegekend><Lidstaat>BE</Lidstaat>"
        b"<Status>GESCHORST</Status></TerugkeerOndersteuning>"
    )
    record = RawRecord(data=hit_with_avrr(by_type, inner), source="t", position="p")
    message = r"unknown avrr_status code 'GESCHORST' in Gebeurtenis/EurodacTreffer/TerugkeerOndersteuning/Status"
    with pytest.raises(MappingError, match=message):
        connector.translate(record, identity_context(connector))


@pytest.mark.parametrize("code", ["D", "XKX", "RKS", "UK"])
def test_mrz_and_user_assigned_country_codes_reach_the_payload(connector: NlXmlConnector, code: str) -> None:
    # Issue 10 §2.3: D (MRZ Germany), XKX/RKS (Kosovo), UK: the shared code list (CD-001) decides, not the connector.
    payload = payloads()[m.EventType.RETURN_DECISION_ISSUED]
    assert isinstance(payload, m.ReturnDecisionIssued)
    assert payload.identity is not None
    identity = payload.identity.model_copy(update={"nationalities": (code,)})
    (fact,) = round_trip(connector, payload.model_copy(update={"identity": identity, "country_of_return": code}))
    assert isinstance(fact.payload, m.ReturnDecisionIssued)
    assert fact.payload.identity is not None
    assert fact.payload.identity.nationalities == (code,)
    assert fact.payload.country_of_return == code


def test_lower_case_country_codes_are_upper_cased(connector: NlXmlConnector) -> None:
    payload = payloads()[m.EventType.RETURN_DECISION_ISSUED]
    fact = Fact("V-2026-000123", "1234567890", AT, payload.model_copy(update={"country_of_return": "MAR"}))  # type: ignore[arg-type]
    data = render_fact(fact, connector._codes).replace(b">MAR<", b">mar<")
    assert b">mar<" in data
    (mapped,) = connector.map(connector.parse(RawRecord(data=data, source="t", position="p")))
    assert isinstance(mapped.payload, m.ReturnDecisionIssued)
    assert mapped.payload.country_of_return == "MAR"


AUTUMN_0230_FIRST = dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST; 02:30 CET is an hour later


@pytest.mark.parametrize(
    ("policy", "occurred_at"),
    [("earlier", AUTUMN_0230_FIRST), ("later", AUTUMN_0230_FIRST + dt.timedelta(hours=1))],
)
def test_ambiguous_record_time_follows_the_setting_and_warns(
    make: Callable[..., NlXmlConnector], policy: str, occurred_at: dt.datetime
) -> None:
    connector = make(ambiguous_local_time=policy)
    payload = payloads()[m.EventType.ENTRY_RECORDED]
    data = render_fact(Fact("V-2026-000123", "1234567890", AUTUMN_0230_FIRST, payload), connector._codes)  # type: ignore[arg-type]
    (fact,) = connector.map(connector.parse(RawRecord(data=data, source="t", position="p")))
    assert fact.occurred_at == occurred_at
    assert [(w.rule_id, w.severity, w.path) for w in fact.warnings] == [
        ("CN-DST-001", m.Severity.WARNING, "Gebeurtenis/Tijdstip")
    ]


def test_ambiguous_record_time_is_refused_when_set_to_reject(make: Callable[..., NlXmlConnector]) -> None:
    connector = make(ambiguous_local_time="reject")
    payload = payloads()[m.EventType.ENTRY_RECORDED]
    data = render_fact(Fact("V-2026-000123", "1234567890", AUTUMN_0230_FIRST, payload), connector._codes)  # type: ignore[arg-type]
    with pytest.raises(MappingError, match=r"Gebeurtenis/Tijdstip: 2025-10-26 02:30:00 occurs twice"):
        connector.map(connector.parse(RawRecord(data=data, source="t", position="p")))
