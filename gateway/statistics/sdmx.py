"""SDMX output: SDMX-CSV 2.0 and SDMX-ML 2.1 structure-specific data, plus the data structure they follow.

The data structure (codelists, data structure definitions, dataflows) is built from the configuration, because
Eurostat's exact codes are unverified; it is written beside the data (``structure.xml``) so a receiver, and the
tests, can read the structure-specific messages with a standard SDMX library. SDMX-ML is written by ``sdmx1``
(the library the tests read it back with); SDMX-CSV 2.0 is a plain CSV layout, written with the ``csv`` module
because ``sdmx1``'s writer targets pandas frames rather than files of that exact layout.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import sdmx
from sdmx.message import DataMessage, Header, StructureMessage
from sdmx.model import common, v21

from gateway.events.models import MemberState
from gateway.statistics.config import StatisticsConfig
from gateway.statistics.tables import Period, Table

__all__ = ["read_sdmx_csv", "read_sdmx_ml", "structure_message", "write_sdmx_csv", "write_sdmx_ml"]


def _codelist(agency: common.Agency, version: str, cid: str, codes: list[str]) -> common.Codelist:
    cl: common.Codelist = common.Codelist(id=cid, maintainer=agency, version=version)
    for code in dict.fromkeys(codes):  # ordered, without duplicates
        cl.append(common.Code(id=code))
    return cl


def structure_message(config: StatisticsConfig) -> StructureMessage:
    """The codelists, the two data structure definitions and the eight dataflows (quarterly and annual)."""
    s = config.structure
    agency = common.Agency(id=s.agency)
    unk = s.unknown_code
    citizen = sorted({*s.citizenship_codes.values(), unk})
    lists = {
        s.dim_freq: _codelist(agency, s.version, "CL_FREQ", ["Q", "A"]),
        s.dim_geo: _codelist(agency, s.version, "CL_GEO", sorted(s.geo_codes.get(x, x) for x in MemberState)),
        s.dim_citizen: _codelist(agency, s.version, "CL_CITIZEN", citizen),
        s.dim_sex: _codelist(agency, s.version, "CL_SEX", [*s.sex_codes.values(), unk]),
        s.dim_age: _codelist(agency, s.version, "CL_AGE", [c.code for c in s.age_classes] + [unk]),
        s.dim_return_type: _codelist(agency, s.version, "CL_C_RET", [*s.return_type_codes.values(), unk]),
        s.dim_assistance: _codelist(agency, s.version, "CL_ASSIST", list(s.assistance_codes.values())),
    }
    lists[s.dim_destination] = lists[s.dim_citizen]
    base = [s.dim_freq, s.dim_geo, s.dim_citizen, s.dim_sex, s.dim_age]
    dsds = {
        "ordered": _dsd(agency, s.version, s.dsd_ordered, base, lists, config),
        "returned": _dsd(
            agency,
            s.version,
            s.dsd_returned,
            [*base, s.dim_return_type, s.dim_assistance, s.dim_destination],
            lists,
            config,
        ),
    }
    msg = StructureMessage(header=Header(id="STRUCTURE", sender=agency))
    for cl in {id(c): c for c in lists.values()}.values():
        msg.add(cl)
    for dsd in dsds.values():
        msg.add(dsd)
    for ids in (s.quarterly, s.annual):
        for name in ("ordered", "returned", "ordered_uam", "returned_uam"):
            dsd = dsds["returned" if name == "returned" else "ordered"]
            msg.add(v21.DataflowDefinition(id=getattr(ids, name), maintainer=agency, version=s.version, structure=dsd))
    return msg


def _dsd(
    agency: common.Agency,
    version: str,
    dsd_id: str,
    dims: list[str],
    lists: dict[str, common.Codelist],
    config: StatisticsConfig,
) -> v21.DataStructureDefinition:
    dsd = v21.DataStructureDefinition(id=dsd_id, maintainer=agency, version=version)
    for dim in dims:
        dsd.dimensions.append(
            common.Dimension(id=dim, local_representation=common.Representation(enumerated=lists[dim]))
        )
    dsd.dimensions.append(common.TimeDimension(id=config.structure.time_dimension))
    dsd.measures.getdefault(config.structure.measure)
    return dsd


def _dataflow(structure: StructureMessage, table: Table) -> v21.DataflowDefinition:
    dfd = structure.dataflow[table.dataflow]
    assert isinstance(dfd, v21.DataflowDefinition)
    return dfd


def write_sdmx_ml(
    table: Table,
    period: Period,
    config: StatisticsConfig,
    structure: StructureMessage,
    path: Path,
    *,
    sender: str,
    prepared: dt.datetime,
) -> None:
    """Write one table's published figures as an SDMX-ML 2.1 structure-specific data message.

    Args:
        table: The table.
        period: Its reference period (the TIME_PERIOD of every observation).
        config: Rounding and the structure's ids.
        structure: From ``structure_message(config)``.
        path: The file to write.
        sender: The header's sender id (the reporting Member State).
        prepared: The header's preparation time (given, so a rebuild writes the same bytes).
    """
    dfd = _dataflow(structure, table)
    dsd = dfd.structure
    s = config.structure
    measure = dsd.measures[0]
    ds = v21.StructureSpecificDataSet(structured_by=dsd, described_by=dfd)
    for key, value in table.published(config.rounding).items():
        values = dict(zip(table.dimensions, key, strict=True)) | {s.time_dimension: period.label}
        ds.obs.append(v21.Observation(dimension=dsd.make_key(common.Key, values), value=value, value_for=measure))
    header = Header(
        id=f"{table.dataflow}_{period.label}".replace("-", "_"), prepared=prepared, sender=common.Agency(id=sender)
    )
    msg = DataMessage(data=[ds], dataflow=dfd, header=header)
    path.write_bytes(sdmx.to_xml(msg, pretty_print=True))


def write_sdmx_csv(table: Table, period: Period, config: StatisticsConfig, path: Path) -> None:
    """Write one table's published figures as SDMX-CSV 2.0 (one row per observation, action I = information)."""
    s = config.structure
    ref = f"{s.agency}:{table.dataflow}({s.version})"
    buf = io.StringIO(newline="")
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["STRUCTURE", "STRUCTURE_ID", "ACTION", *table.dimensions, s.time_dimension, s.measure])
    for key, value in table.published(config.rounding).items():
        out.writerow(["dataflow", ref, "I", *key, period.label, value])
    path.write_text(buf.getvalue(), encoding="utf-8")


def _observations(message: Any, measure: str, time_dimension: str) -> dict[tuple[str, ...], int]:
    out: dict[tuple[str, ...], int] = {}
    for ds in message.data:
        for obs in ds.obs:
            values = obs.key.order().values
            key = tuple(str(v.value) for k, v in values.items() if k != time_dimension)
            out[key] = int(float(obs.value))
    return out


def _read_dataflow(structure: Path, dataflow: str) -> v21.DataflowDefinition:
    msg = sdmx.read_sdmx(io.BytesIO(structure.read_bytes()))  # a path would leave its file open
    assert isinstance(msg, StructureMessage)
    dfd = msg.dataflow[dataflow]
    assert isinstance(dfd, v21.DataflowDefinition)
    return dfd


def read_sdmx_ml(data: Path, structure: Path, config: StatisticsConfig, dataflow: str) -> dict[tuple[str, ...], int]:
    """Read an SDMX-ML structure-specific message back with ``sdmx1``: dimension codes (no time) -> value."""
    dfd = _read_dataflow(structure, dataflow)
    read = sdmx.read_sdmx(io.BytesIO(data.read_bytes()), structure=dfd.structure)
    return _observations(read, config.structure.measure, config.structure.time_dimension)


def read_sdmx_csv(data: Path, structure: Path, config: StatisticsConfig, dataflow: str) -> dict[tuple[str, ...], int]:
    """Read an SDMX-CSV 2.0 file back with ``sdmx1``'s SDMX-CSV reader: dimension codes (no time) -> value."""
    from sdmx.reader.csv import Reader

    dfd = _read_dataflow(structure, dataflow)
    read = Reader().convert(io.BytesIO(data.read_bytes()), structure=dfd)
    return _observations(read, config.structure.measure, config.structure.time_dimension)
