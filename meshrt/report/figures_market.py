"""The market the algos traded in: ``meshrt intel``'s figures per traded symbol.

Every number is meshrt/analysis/intel.py's (the one home of these measures), sampled
during the report's one pass over the log (meshrt/report/series.py): the same
``Structure`` ``meshrt intel SYMBOL RUN_DIR`` prints.
"""

from __future__ import annotations

from typing import Any

from plotly.colors import qualitative
from plotly.subplots import make_subplots

from meshrt.analysis.intel import Structure
from meshrt.report.axes import layout
from meshrt.report.registry import figure
from meshrt.report.series import RunData

MAX_SYMBOLS = 6  # rows drawn at most, as the price figure
COLOURS = qualitative.Plotly


@figure(
    "intel",
    65,
    "Market structure",
    "meshrt intel's measures per venue of each traded symbol, over time samples of the "
    "feed books: the cost of taking a size (p50 with the p10-p90 band, bps of the mid: "
    "half the gap between buying and selling it), the spread (p50, bar p10-p90) and the "
    "share of time each venue set the best bid and ask",
)
def intel(data: RunData) -> Any:
    found = {s: v for s, v in data.intel.items() if isinstance(v, Structure) and v.venues}
    if not found:
        reasons = "; ".join(str(v) for v in data.intel.values()) or "no traded symbol"
        return f"no feed book of a traded symbol ({reasons})"
    symbols = sorted(found)[:MAX_SYMBOLS]
    titles = [
        f"{symbol}: {title}"
        for symbol in symbols
        for title in ("cost of taking a size (bps)", "spread (bps)", "NBBO share")
    ]
    fig = make_subplots(
        rows=len(symbols),
        cols=3,
        column_widths=[0.5, 0.25, 0.25],
        subplot_titles=titles,
        vertical_spacing=0.3 / len(symbols),
    )
    venues = sorted({v.venue for s in symbols for v in found[s].venues})
    colour = {venue: COLOURS[k % len(COLOURS)] for k, venue in enumerate(venues)}
    for row, symbol in enumerate(symbols, 1):
        _symbol_row(fig, row, found[symbol], colour, first=row == 1)
    fig.update_xaxes(type="log", title_text="size (units)", col=1, row=len(symbols))
    fig.update_yaxes(tickformat=".0%", range=[0, 1], col=3)
    fig.update_layout(barmode="group")
    return layout(fig, 60 + 330 * len(symbols))


def _symbol_row(
    fig: Any, row: int, structure: Structure, colour: dict[str, str], *, first: bool
) -> None:
    for venue in structure.venues:
        c = colour[venue.venue]
        priced = [t for t in venue.take if t.cost_bps is not None]
        sizes = [t.size for t in priced]
        p10 = [t.cost_bps.p10 for t in priced if t.cost_bps is not None]
        p90 = [t.cost_bps.p90 for t in priced if t.cost_bps is not None]
        fig.add_scatter(
            x=sizes + sizes[::-1],
            y=p90 + p10[::-1],
            mode="lines",
            fill="toself",
            fillcolor=c,
            opacity=0.2,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=venue.venue,
            row=row,
            col=1,
        )
        fig.add_scatter(
            x=sizes,
            y=[t.cost_bps.p50 for t in priced if t.cost_bps is not None],
            text=[f"fillable {t.fillable:.0%}, cheapest {t.cheapest:.0%}" for t in priced],
            mode="lines+markers",
            line={"color": c},
            name=venue.venue,
            legendgroup=venue.venue,
            showlegend=first,
            row=row,
            col=1,
        )
        spread = venue.spread_bps
        if spread is not None:
            fig.add_bar(
                x=[venue.venue],
                y=[spread.p50],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [spread.p90 - spread.p50],
                    "arrayminus": [spread.p50 - spread.p10],
                },
                marker_color=c,
                name=venue.venue,
                legendgroup=venue.venue,
                showlegend=False,
                row=row,
                col=2,
            )
        fig.add_bar(
            x=["best bid", "best ask"],
            y=[venue.best_bid_share, venue.best_ask_share],
            hovertext=[f"{venue.venue}, two-sided {venue.coverage:.0%} of the time"] * 2,
            marker_color=c,
            name=venue.venue,
            legendgroup=venue.venue,
            showlegend=False,
            row=row,
            col=3,
        )
