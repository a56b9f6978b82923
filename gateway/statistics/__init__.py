"""Eurostat return statistics (Reg. 862/2007 as amended by Reg. 2020/851): aggregates only, built by replay.

``facts`` folds canonical events into per-person facts, ``tables`` counts them into a period's tables, ``sdmx``
and ``output`` write SDMX-CSV 2.0, SDMX-ML 2.1, a plain CSV and the ledger, ``revisions`` reports changes of a
period already built, ``replay`` reads the canonical topic, ``chart`` draws returns per quarter. See
docs/statistics.md.
"""

from gateway.statistics.config import StatisticsConfig, load_statistics_config
from gateway.statistics.facts import fold
from gateway.statistics.tables import Period, Table, Tables, count

__all__ = ["Period", "StatisticsConfig", "Table", "Tables", "count", "fold", "load_statistics_config"]
