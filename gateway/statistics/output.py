"""Writing one period's tables: SDMX-CSV 2.0, SDMX-ML 2.1, a plain CSV for a statistics office, and the ledger.

Layout under the output folder::

    structure.xml                       the data structure (codelists, DSDs, dataflows), SDMX-ML 2.1
    <period>/sdmx-csv/<DATAFLOW>.csv    SDMX-CSV 2.0, published (rounded) figures
    <period>/sdmx-ml/<DATAFLOW>.xml     SDMX-ML 2.1 structure-specific data, published figures
    <period>/nso/<table>.csv            plain CSV with readable column names, published figures
    ledger/<period>.json                exact and published figures of the last build (stays here)
    revisions/<period>-<n>.csv          what changed since the previous build of the period, if anything
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import sdmx

from gateway.statistics.config import StatisticsConfig
from gateway.statistics.revisions import RevisionReport, ledger_of, record_build
from gateway.statistics.sdmx import structure_message, write_sdmx_csv, write_sdmx_ml
from gateway.statistics.tables import Table, Tables

__all__ = ["NSO_COLUMNS", "PeriodOutput", "write_period"]

NSO_COLUMNS = {
    "FREQ": "frequency",
    "GEO": "reporting_country",
    "CITIZEN": "citizenship",
    "SEX": "sex",
    "AGE": "age_class",
    "C_RET": "type_of_return",
    "ASSIST": "assistance",
    "C_DEST": "country_of_destination",
}
"""Readable column names of the plain CSV, by the default dimension ids (others keep their id)."""


@dataclass(frozen=True, slots=True)
class PeriodOutput:
    """What was written for one period.

    Attributes:
        tables: The tables (exact counts).
        folder: The period's folder.
        revision: The comparison with the previous build of the period.
    """

    tables: Tables
    folder: Path
    revision: RevisionReport


def write_period(tables: Tables, config: StatisticsConfig, out: Path, *, prepared: dt.datetime) -> PeriodOutput:
    """Write every output of one period under ``out`` and record the build in the ledger."""
    period = tables.period
    folder = out / period.label
    for sub in ("sdmx-csv", "sdmx-ml", "nso"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    structure = structure_message(config)
    (out / "structure.xml").write_bytes(sdmx.to_xml(structure, pretty_print=True))
    for table in tables.tables.values():
        write_sdmx_csv(table, period, config, folder / "sdmx-csv" / f"{table.dataflow}.csv")
        write_sdmx_ml(
            table,
            period,
            config,
            structure,
            folder / "sdmx-ml" / f"{table.dataflow}.xml",
            sender=config.sender,
            prepared=prepared,
        )
        write_nso_csv(table, period.label, config, folder / "nso" / f"{table.name}.csv")
    report = record_build(out, ledger_of(tables, config.rounding, config.fingerprint))
    return PeriodOutput(tables, folder, report)


def write_nso_csv(table: Table, period: str, config: StatisticsConfig, path: Path) -> None:
    """A plain CSV a statistics office opens in a spreadsheet: readable headers, UTF-8 with BOM, published figures."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["period", *(NSO_COLUMNS.get(d, d.lower()) for d in table.dimensions), "persons"])
    for key, value in table.published(config.rounding).items():
        w.writerow([period, *key, value])
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
