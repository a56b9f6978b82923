"""SIS messages as XML: valid against schemas/xsd/sis-return-v1.xsd, refused (never raised) when they cannot be."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree
from pydantic import ValidationError

from gateway.adapters._xml import xsd_path
from gateway.adapters.sis import Rendered, SisConfig, render
from gateway.adapters.sis.messages import AlertCreate
from gateway.adapters.sis.render import ROOT_ELEMENTS, XSD_NAME, schema
from gateway.events import models as m
from tests.unit.adapters.sis.support import (
    _SCHEMA,
    CONFIG,
    NS,
    XSD,
    decision,
    departed,
    extended,
    identity,
    non_return,
    refused,
    run,
    status,
    texts,
    valid_xml,
)

ALL_KINDS = run(
    [decision(ban_days=365), extended(), status("SUSPENDED"), non_return(last_day=dt.date(2026, 4, 22)), departed()]
)
MESSAGES = [msg for step in ALL_KINDS for msg in step.messages]


def test_the_story_covers_every_kind():
    assert {msg.kind for msg in MESSAGES} == set(ROOT_ELEMENTS)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda msg: msg.kind)
def test_every_kind_renders_valid_xml(message):
    doc = valid_xml(message)
    assert doc.tag == f"{{{NS}}}{ROOT_ELEMENTS[message.kind]}"
    assert doc.get("legalBasis") == message.legal_basis
    assert texts(doc)["AlertReference"] == [message.alert_reference]
    assert texts(doc)["DecisionReference"] == [message.decision_reference]
    assert texts(doc)["CreatedAt"] == ["2026-03-02T09:30:00.000Z"]


def test_create_carries_the_points_in_order():
    create = MESSAGES[0]
    doc = valid_xml(create)
    names = [etree.QName(e).localname for e in doc.iterchildren()]
    assert names == [
        "IssuingMemberState",
        "AlertReference",
        "DecisionReference",  # (l)
        "CreatedAt",
        "Surname",  # (a)
        "Forename",  # (b)
        "NameAtBirth",  # (c)
        "Alias",  # (d)
        "PlaceOfBirth",  # (e)
        "DateOfBirth",  # (f)
        "Gender",  # (g)
        "Nationality",  # (h)
        "ReasonForAlert",  # (j)
        "CreatingAuthority",  # (k)
        "ActionOnHit",  # (m)
        "PublicSecurityThreat",  # (o)
        "DocumentCategory",  # (q)
        "DocumentCountryOfIssue",  # (r)
        "DocumentNumber",  # (s)
        "DocumentDateOfIssue",  # (t)
        "VoluntaryDepartureLastDay",  # (x)
        "Suspended",  # (y)
        "EnforcementPostponed",  # (y)
        "EntryBan",  # (z)
    ]
    t = texts(doc)
    assert t["CreatingAuthority"] == ["NL-IND"]
    assert t["ReasonForAlert"] == ["REJECTED_APPLICATION"]
    assert t["DateOfBirth"] == ["1994-07"]
    assert t["EntryBan"] == ["true"]


def test_warning_markers_are_point_i_once_each():
    create = run([decision(warning_markers=(m.WarningMarker.ARMED, m.WarningMarker.UNKNOWN, m.WarningMarker.ARMED))])
    assert texts(valid_xml(create[0].messages[0]))["WarningMarker"] == ["ARMED"]


@pytest.mark.parametrize(
    ("dob", "expected"),
    [
        ((1994, 7, 9, "DAY"), ["1994-07-09"]),
        ((1994, 7, None, "MONTH"), ["1994-07"]),
        ((1994, None, None, "YEAR"), ["1994"]),
        ((None, None, None, "UNKNOWN"), None),
        ((1994, None, None, "DAY"), None),  # inconsistent: the day is not known after all
    ],
)
def test_date_of_birth_as_far_as_known(dob, expected):
    y, mo, d, precision = dob
    partial = m.PartialDate(year=y, month=mo, day=d, precision=m.DatePrecision(precision))
    [step] = run([decision(identity=identity(date_of_birth=partial))])
    assert texts(valid_xml(step.messages[0])).get("DateOfBirth") == expected


def test_reason_for_alert_is_the_configured_code():
    config = SisConfig(creating_authority="NL-IND", reason_codes={m.LegalGround.REJECTED_APPLICATION: "RD-ASYLUM"})
    [step] = run([decision()], config=config)
    assert texts(valid_xml(step.messages[0], config))["ReasonForAlert"] == ["RD-ASYLUM"]
    unmapped = run([decision(legal_ground=m.LegalGround.ILLEGAL_STAY)], config=config)[0]
    assert "ReasonForAlert" not in texts(valid_xml(unmapped.messages[0], config))
    unknown = run([decision(legal_ground=m.LegalGround.UNKNOWN)])[0]
    assert "ReasonForAlert" not in texts(valid_xml(unknown.messages[0]))


def _unrendered_create(**changes: object) -> AlertCreate:
    from gateway.adapters.sis import sis_step
    from tests.unit.adapters.sis.support import event

    [message] = sis_step(None, event(decision(identity=identity(**changes))), CONFIG).messages
    assert isinstance(message, AlertCreate)
    return message


@pytest.mark.parametrize(
    ("changes", "element"),
    [
        ({"surnames": ("EL\x00AMRANI",)}, "Surname"),
        ({"forenames": ("YOU\x1bSSEF",)}, "Forename"),
        ({"place_of_birth": "Ouj\ufffeda"}, "PlaceOfBirth"),
    ],
)
def test_text_xml_cannot_carry_is_refused_not_altered(changes, element):
    r = refused(_unrendered_create(**changes))
    assert r.kind == "CREATE"
    assert element in r.reason
    assert "AMRANI" not in r.reason
    assert "SSEF" not in r.reason


@pytest.mark.parametrize(
    "changes",
    [
        {"nationalities": ("mar-secret",)},
        {"place_of_birth": "line one\nline two"},
        {"date_of_birth": m.PartialDate(year=1994, month=2, day=30, precision=m.DatePrecision.DAY)},
        {"surnames": ("X" * 501,)},
    ],
)
def test_data_the_xsd_rejects_is_refused_without_values_in_the_reason(changes):
    r = refused(_unrendered_create(**changes))
    assert "sis-return-v1.xsd" in r.reason
    for secret in ("mar-secret", "line one", "1994-02-30", "XXXX"):
        assert secret not in r.reason


def test_elements_outside_the_configured_whitelist_are_refused():
    create = MESSAGES[0]
    points = {k: v for k, v in CONFIG.closed_list.art4_points.items() if k != "identity.place_of_birth"}
    narrower = SisConfig(
        creating_authority="NL-IND", closed_list=CONFIG.closed_list.model_copy(update={"art4_points": points})
    )
    r = refused(create, narrower)
    assert r.reason == "elements outside the closed list of the target: PlaceOfBirth"
    # built under the narrower configuration, the same alert leaves without the point
    [step] = run([decision()], config=narrower)
    assert "PlaceOfBirth" not in texts(valid_xml(step.messages[0], narrower))


def test_render_uses_the_default_configuration_when_given_none():
    assert isinstance(render(MESSAGES[0]), Rendered)


def test_schema_is_loaded_once_from_the_repository():
    assert schema() is schema()
    assert xsd_path(XSD_NAME).resolve() == XSD.resolve()


def test_schema_is_closed_and_says_it_is_not_the_icd():
    text = XSD.read_text(encoding="utf-8")
    for opening in ("<xs:any", "<xs:anyAttribute", "<xs:openContent", "<xs:defaultOpenContent", "<xs:redefine"):
        assert opening not in text
    assert "NOT THE SIS INTERFACE CONTROL DOCUMENT" in text
    # only messages are documents: a lone data element is not
    lone = etree.fromstring(f'<sis:Surname xmlns:sis="{NS}">X</sis:Surname>'.encode())
    assert not _SCHEMA.validate(lone)
    # an unknown element inside a message is rejected
    doc = valid_xml(MESSAGES[0])
    etree.SubElement(doc, f"{{{NS}}}CountryOfReturn").text = "MAR"
    assert not _SCHEMA.validate(doc)


def test_every_data_element_of_the_xsd_names_its_point():
    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.parse(str(XSD))
    envelope_or_fixed = {"IssuingMemberState", "AlertReference", "CreatedAt", "DeletionGround"}
    for element in tree.iter(f"{xs}element"):
        name = element.get("name")
        if name is None or name in ROOT_ELEMENTS.values() or name in envelope_or_fixed:
            continue
        doc = "".join(element.find(f"{xs}annotation/{xs}documentation").itertext())
        assert "Art. 4(1)(" in doc or "2018/1861" in doc or "2008/115" in doc or "to be confirmed" in doc, name


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"closed_list": {"art4_points": {"decision_reference": "l", "country_of_return": "p"}, "withheld": []}},
            "no element",
        ),
        ({"closed_list": {"art4_points": {"identity.surnames": "a"}}}, "decision_reference"),
        ({"entry_ban_fields": ["identity.surnames", "warning_markers"]}, "warning_markers"),
        ({"reason_codes": {"ILLEGAL_STAY": " "}}, "blank code"),
        ({"honoured_exemptions": ["SHORT_PERIOD"]}, "honoured_exemptions"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_configuration_errors_are_caught_at_start_up(changes, match):
    with pytest.raises(ValidationError, match=match):
        SisConfig.model_validate(changes)


def test_default_configuration_is_valid_and_marks_what_is_unverified():
    config = SisConfig()
    basis = config.legal_basis
    for text in (basis.confirmation, basis.delete_returned, basis.delete_withdrawn, basis.entry_ban, basis.non_return):
        assert "to be confirmed" in text
    assert "to be confirmed" in config.action_on_hit
    assert config.honoured_exemptions == ("DETAINED_UNTIL_REMOVAL", "BORDER_IMMEDIATE_ENFORCEMENT")
