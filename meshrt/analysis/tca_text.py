"""A TCA report for the terminal: the table ``meshrt tca`` prints, with its legend."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from meshrt.analysis import fmt
from meshrt.analysis.tca import TcaReport
from meshrt.console import table
from meshrt.contract import PRICE_SCALE

LEGEND = (
    (
        "slip: fill price vs the mid at the order's decision, + = worse for the algo "
        "(quote units per unit, and bps of that mid)"
    ),
    (
        "mo: mid at fill time + h vs fill price, + = gain for the algo (bps of the fill "
        "price); n/a: the run ended before fill time + h"
    ),
    "averages are weighted by fill size; fees: negative = rebate",
)


def _quote(value: float | None) -> str:
    """A price-unit average shown in quote units, signed, to six decimals."""
    return "n/a" if value is None else f"{value / PRICE_SCALE:+.6f}"


def _bps(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def tca_table(report: TcaReport) -> RenderableType:
    """One row per deployment, then a total per venue, then the legend and notes."""
    head = (
        f"TCA of {report.scenario!r} (symbol {report.symbol or 'all'}), run end "
        f"{fmt.ns(report.end_ns)} s, markouts at "
        + ", ".join(fmt.duration(h) for h in report.horizons_ns)
    )
    names = [fmt.duration(h) for h in report.horizons_ns]
    rows = table(
        "venue",
        "deployment",
        "orders",
        "rejected",
        "ordered",
        "filled",
        "fill%",
        "fills",
        "slip",
        "slip bps",
        "fees",
        *(f"mo {name}{unit}" for name in names for unit in ("", " bps")),
        left=2,
    )
    for row in report.rows:
        rows.add_row(
            row.venue,
            row.deployment or "(venue)",
            f"{row.orders:,}",
            f"{row.rejected:,}",
            fmt.size(row.ordered),
            fmt.size(row.filled),
            "n/a" if row.fill_ratio is None else f"{row.fill_ratio:.1%}",
            f"{row.fills:,}",
            _quote(row.slippage),
            _bps(row.slippage_bps),
            fmt.price(row.fees),
            *(cell for m in row.markouts for cell in (_quote(m.price), _bps(m.bps))),
        )
    lines = [Text(line) for line in LEGEND]
    excluded = {
        name: sum(r.markouts[i].excluded for r in report.rows if r.deployment is not None)
        for i, name in enumerate(names)
    }
    partial = {name: n for name, n in excluded.items() if n}
    if partial:
        lines.append(
            Text(
                "fills left out of markouts (horizon past the run's end): "
                + ", ".join(f"{name} {n:,}" for name, n in partial.items())
            )
        )
    lines += [Text(f"note: {note}", style="yellow") for note in report.notes]
    body = rows if report.rows else Text("(no orders)")
    return Group(Text(head), Text(""), body, Text(""), *lines)
