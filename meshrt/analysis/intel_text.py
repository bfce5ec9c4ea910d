"""``meshrt intel``'s tables (the house tables of meshrt/console.py) and JSON: what
meshrt/analysis/intel.py measured."""

from __future__ import annotations

import json
from typing import Any

import attrs
from rich.console import Group, RenderableType
from rich.text import Text

from meshrt.analysis.fmt import ns
from meshrt.analysis.intel import Percentiles, Structure
from meshrt.console import table


def _pct(value: Percentiles | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value.p50:.{digits}f} ({value.p10:.{digits}f}-{value.p90:.{digits}f})"


def _share(value: float) -> str:
    return f"{value:.0%}"


def tables(structure: Structure, route_size: float) -> RenderableType:
    """Venues, the cost of taking each size, and the routing preference for one size,
    each under its title, in the console's house tables."""
    span = f"{ns(structure.start_ns)} to {ns(structure.end_ns)} s"
    bands = [band for band, _ in structure.venues[0].depth_units] if structure.venues else []
    venues = table(
        "venue",
        "coverage",
        "updates",
        "spread bps",
        "best bid",
        "best ask",
        *(f"depth {band} bps" for band in bands),
    )
    for venue in structure.venues:
        venues.add_row(
            venue.venue,
            _share(venue.coverage),
            f"{venue.updates:,}",
            _pct(venue.spread_bps),
            _share(venue.best_bid_share),
            _share(venue.best_ask_share),
            *(_pct(depth, 4) for _, depth in venue.depth_units),
        )
    cost = table("size", "venue", "cost bps", "fillable", "cheapest", left=0)
    cost.columns[1].justify = "left"
    sizes = [take.size for take in structure.venues[0].take] if structure.venues else []
    for i, size in enumerate(sizes):
        for k, venue in enumerate(structure.venues):
            take = venue.take[i]
            cost.add_row(
                f"{size:g}" if k == 0 else "",
                venue.venue,
                _pct(take.cost_bps),
                _share(take.fillable),
                _share(take.cheapest),
            )
    routing = table("rank", "venue", "median cost bps", left=0)
    routing.columns[1].justify = "left"
    ranked = structure.routing(route_size)
    for rank, (venue_name, bps) in enumerate(ranked, 1):
        routing.add_row(str(rank), venue_name, f"{bps:.2f}")
    if not ranked:
        routing.add_row("-", "no venue could fill it half the time", "-")
    return Group(
        Text(
            f"{structure.symbol}: {structure.samples} samples every "
            f"{structure.grid_ns / 1e6:g} ms, {span}",
            style="bold",
        ),
        venues,
        Text("p50 (p10-p90) over time; depth: both sides' units within the band of the mid"),
        Text(""),
        Text("cost of taking a size (bps of mid, average of buying and selling it)", style="bold"),
        cost,
        Text("p50 (p10-p90) when the book could fill it; fillable and cheapest: share of time"),
        Text(""),
        Text(f"routing preference for {route_size:g} units (cheapest median first)", style="bold"),
        routing,
    )


def to_json(structure: Structure, route_size: float) -> str:
    data: dict[str, Any] = attrs.asdict(structure)
    data["routing"] = {"size": route_size, "venues": structure.routing(route_size)}
    return json.dumps(data, indent=1)
