"""RRAI (Return and Reintegration Assistance Inventory): the programme catalogue plus its usage, as aggregates.

Per programme x country of return x quarter x type of assistance (form and amount level) x stage of the procedure:
distinct persons who applied, were granted, were refused and departed with the programme's assistance. Small counts
are suppressed. Folding and counting are pure (``usage``); replay and files are ``export``; see ``docs/rrai.md``.
"""

from gateway.adapters.rrai.config import Quarter, RraiConfig, load_rrai_config
from gateway.adapters.rrai.export import RraiReport, build_report, export_quarter, replay_usage, write_report
from gateway.adapters.rrai.usage import Fact, Measure, Usage, UsageFold, UsageRow, fold_usage, usage_rows

__all__ = [
    "Fact",
    "Measure",
    "Quarter",
    "RraiConfig",
    "RraiReport",
    "Usage",
    "UsageFold",
    "UsageRow",
    "build_report",
    "export_quarter",
    "fold_usage",
    "load_rrai_config",
    "replay_usage",
    "usage_rows",
    "write_report",
]
