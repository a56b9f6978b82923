"""Revisions: a later build of a period whose figures were already published reports what changed.

Each build records the figures it published in a ledger, ``ledger/<period>.json`` under the output folder (exact
and published counts per cell, with the configuration's fingerprint). When the same period is built again, the new
figures are compared with the ledger: every cell whose count changed is a revision with its old and new values,
written to ``revisions/<period>-<n>.csv`` (n = 1, 2, ... in build order) and returned to the caller. A late event
for a closed period (a departure recorded after the quarter was sent) shows up this way; so does a change of the
counting rules, which the report tells apart by the configuration fingerprint.

The ledger stays in the Member State: it holds only aggregates, but it is the record of what was sent.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.statistics.tables import Tables

__all__ = ["Revision", "RevisionReport", "diff_ledgers", "ledger_of", "read_ledger", "record_build"]


@dataclass(frozen=True, slots=True)
class Revision:
    """One cell whose figure changed since the last build of its period.

    Attributes:
        table: Table name.
        dataflow: Dataflow id.
        key: Dimension codes.
        old_exact: Previous exact count (0: the cell did not exist).
        new_exact: New exact count (0: the cell is gone).
        old_published: Previous published (rounded) figure.
        new_published: New published figure.
    """

    table: str
    dataflow: str
    key: tuple[str, ...]
    old_exact: int
    new_exact: int
    old_published: int
    new_published: int

    @property
    def published_changed(self) -> bool:
        """Whether the transmitted figure changes (a change may vanish in the rounding)."""
        return self.old_published != self.new_published


@dataclass(frozen=True, slots=True)
class RevisionReport:
    """The outcome of comparing a build with the period's ledger.

    Attributes:
        period: The period.
        first_build: No ledger existed: nothing to revise.
        config_changed: The configuration differs from the ledger's: differences may come from the rules.
        revisions: Changed cells, sorted by table and key.
        path: The revisions CSV written, if any.
    """

    period: str
    first_build: bool
    config_changed: bool
    revisions: tuple[Revision, ...]
    path: Path | None = None


def ledger_of(tables: Tables, rounding: int, fingerprint: str) -> dict[str, Any]:
    """The ledger record of a build (JSON-ready)."""
    return {
        "period": tables.period.label,
        "config": fingerprint,
        "rounding": rounding,
        "tables": {
            name: {
                "dataflow": t.dataflow,
                "dimensions": list(t.dimensions),
                "cells": [
                    [*k, v, p] for (k, v), p in zip(t.cells.items(), t.published(rounding).values(), strict=True)
                ],
            }
            for name, t in tables.tables.items()
        },
    }


def read_ledger(out: Path, period: str) -> dict[str, Any] | None:
    """The ledger of ``period`` under ``out``, or None if the period was never built there."""
    path = out / "ledger" / f"{period}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def diff_ledgers(old: dict[str, Any], new: dict[str, Any]) -> list[Revision]:
    """Changed cells between two ledgers of one period (pure)."""
    revisions: list[Revision] = []
    for name, table in new["tables"].items():
        before = _cells(old["tables"].get(name, {"cells": []}))
        after = _cells(table)
        for key in sorted(before.keys() | after.keys()):
            (oe, op), (ne, np_) = before.get(key, (0, 0)), after.get(key, (0, 0))
            if (oe, op) != (ne, np_):
                revisions.append(Revision(name, table["dataflow"], key, oe, ne, op, np_))
    return revisions


def _cells(table: dict[str, Any]) -> dict[tuple[str, ...], tuple[int, int]]:
    return {tuple(c[:-2]): (int(c[-2]), int(c[-1])) for c in table["cells"]}


def record_build(out: Path, ledger: dict[str, Any]) -> RevisionReport:
    """Compare ``ledger`` with the period's previous one, write the revisions (if any), then the new ledger."""
    period = ledger["period"]
    old = read_ledger(out, period)
    (out / "ledger").mkdir(parents=True, exist_ok=True)
    report = RevisionReport(period, True, False, ())
    if old is not None:
        revisions = diff_ledgers(old, ledger)
        path = _write_revisions(out, period, revisions) if revisions else None
        report = RevisionReport(period, False, old.get("config") != ledger["config"], tuple(revisions), path)
    (out / "ledger" / f"{period}.json").write_text(json.dumps(ledger, indent=1, sort_keys=True), encoding="utf-8")
    return report


def _write_revisions(out: Path, period: str, revisions: list[Revision]) -> Path:
    folder = out / "revisions"
    folder.mkdir(parents=True, exist_ok=True)
    n = 1 + sum(1 for _ in folder.glob(f"{period}-*.csv"))
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["period", "table", "dataflow", "cell", "old_published", "new_published", "old_exact", "new_exact"])
    for r in revisions:
        w.writerow(
            [period, r.table, r.dataflow, ".".join(r.key), r.old_published, r.new_published, r.old_exact, r.new_exact]
        )
    path = folder / f"{period}-{n}.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path
