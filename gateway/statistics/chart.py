"""``gateway stats chart``: returns per quarter by type of return and assistance, and the assisted voluntary share.

The figures are the published ones (rounded as configured), summed over citizenship, sex, age and destination of
the "returned" table; the share of assisted voluntary returns is computed from those sums. The picture is a PNG
(matplotlib, headless) and an HTML page that embeds it with the figures as a table, so it opens anywhere offline.
"""

from __future__ import annotations

import base64
import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gateway.statistics.config import StatisticsConfig
from gateway.statistics.facts import Facts
from gateway.statistics.tables import Period, count

__all__ = ["SERIES", "QuarterPoint", "quarterly_returns", "write_chart"]

SERIES = (
    ("VOLUNTARY", "assisted", "voluntary, assisted"),
    ("VOLUNTARY", "non_assisted", "voluntary, non-assisted"),
    ("ENFORCED", "assisted", "enforced, assisted"),
    ("ENFORCED", "non_assisted", "enforced, non-assisted"),
    ("UNKNOWN", "assisted", "unknown type, assisted"),
    ("UNKNOWN", "non_assisted", "unknown type, non-assisted"),
)
"""(return type, assistance, label) of the stacked series, bottom to top."""


@dataclass(frozen=True, slots=True)
class QuarterPoint:
    """One quarter's returns: label of each ``SERIES`` -> persons, their total and the assisted voluntary share."""

    quarter: str
    by_series: dict[str, int]

    @property
    def total(self) -> int:
        """All returns of the quarter."""
        return sum(self.by_series.values())

    @property
    def assisted_voluntary_share(self) -> float | None:
        """Assisted voluntary returns / all returns (None without returns)."""
        return self.by_series[SERIES[0][2]] / self.total if self.total else None


def quarterly_returns(facts: Facts, quarters: list[Period], config: StatisticsConfig) -> list[QuarterPoint]:
    """The points of the chart (pure)."""
    s = config.structure
    codes = {(s.return_type_codes.get(t, s.unknown_code), s.assistance_codes[a]): label for t, a, label in SERIES}
    points = []
    for quarter in quarters:
        table = count(facts, quarter, config).tables["returned"]
        i, j = table.dimensions.index(s.dim_return_type), table.dimensions.index(s.dim_assistance)
        sums: Counter[str] = Counter({label: 0 for _, _, label in SERIES})
        for key, value in table.published(config.rounding).items():
            sums[codes.get((key[i], key[j]), SERIES[-1][2])] += value
        points.append(QuarterPoint(quarter.label, dict(sums)))
    return points


def write_chart(
    points: list[QuarterPoint], out: Path, *, title: str = "Returns following an order to leave"
) -> tuple[Path, Path]:
    """Write ``returns.png`` and ``returns.html`` under ``out``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on servers
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    labels = [p.quarter for p in points]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(points) + 2), 4.5), dpi=110)
    bottom = [0] * len(points)
    for _, _, label in SERIES:
        values = [p.by_series[label] for p in points]
        if any(values):
            ax.bar(labels, values, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("persons returned")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=45)
    share = ax.twinx()
    shares = [p.assisted_voluntary_share for p in points]
    share.plot(labels, [100 * x if x is not None else float("nan") for x in shares], color="black", marker="o",
               label="assisted voluntary share (%)")  # fmt: skip
    share.set_ylim(0, 100)
    share.set_ylabel("assisted voluntary share (%)")
    handles = ax.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="upper left")
    fig.tight_layout()
    png = out / "returns.png"
    fig.savefig(png)
    plt.close(fig)
    page = out / "returns.html"
    page.write_text(_html(points, png.read_bytes(), title), encoding="utf-8")
    return png, page


def _html(points: list[QuarterPoint], png: bytes, title: str) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, _, label in SERIES)
    rows = "".join(
        f"<tr><td>{p.quarter}</td>"
        + "".join(f"<td>{p.by_series[label]}</td>" for _, _, label in SERIES)
        + f"<td>{p.total}</td><td>{'' if p.assisted_voluntary_share is None else f'{p.assisted_voluntary_share:.1%}'}"
        "</td></tr>"
        for p in points
    )
    image = base64.b64encode(png).decode()
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><img alt='returns per quarter' src='data:image/png;base64,{image}'>"
        f"<table><tr><th>quarter</th>{head}<th>total</th><th>assisted voluntary share</th></tr>{rows}</table>"
        "<p>Published figures (rounded as configured); persons counted once per quarter.</p></body></html>"
    )
