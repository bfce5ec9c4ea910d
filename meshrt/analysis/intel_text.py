"""``meshrt intel``'s tables (rich) and JSON: what meshrt/analysis/intel.py measured."""

from __future__ import annotations

import json
from typing import Any

import attrs
from rich.table import Table

from meshrt.analysis.fmt import ns
from meshrt.analysis.intel import Percentiles, Structure


def _pct(value: Percentiles | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value.p50:.{digits}f} ({value.p10:.{digits}f}-{value.p90:.{digits}f})"


def _share(value: float) -> str:
    return f"{value:.0%}"


def tables(structure: Structure, route_size: float) -> list[Table]:
    """Venues, the cost of taking each size, and the routing preference for one size."""
    span = f"{ns(structure.start_ns)} to {ns(structure.end_ns)} s"
    venues = Table(
        title=f"{structure.symbol}: {structure.samples} samples every "
        f"{structure.grid_ns / 1e6:g} ms, {span}",
        caption="p50 (p10-p90) over time; depth: both sides within the band of the mid",
    )
    for name in ("venue", "coverage", "updates", "spread bps", "best bid", "best ask"):
        venues.add_column(name, justify="left" if name == "venue" else "right", overflow="fold")
    for structure_band in structure.venues[0].depth_units if structure.venues else ():
        venues.add_column(f"depth {structure_band[0]} bps", justify="right", overflow="fold")
    for venue in structure.venues:
        venues.add_row(
            venue.venue,
            _share(venue.coverage),
            str(venue.updates),
            _pct(venue.spread_bps),
            _share(venue.best_bid_share),
            _share(venue.best_ask_share),
            *(_pct(depth, 4) for _, depth in venue.depth_units),
        )
    cost = Table(
        title="cost of taking a size (bps of mid, average of buying and selling it)",
        caption="p50 (p10-p90) when the book could fill it; fillable and cheapest: share of time",
    )
    cost.add_column("size", justify="right")
    for venue in structure.venues:
        cost.add_column(venue.venue, justify="right", overflow="fold")
    sizes = [take.size for take in structure.venues[0].take] if structure.venues else []
    for i, size in enumerate(sizes):
        cost.add_row(
            f"{size:g}",
            *(
                f"{_pct(v.take[i].cost_bps)}\nfillable {_share(v.take[i].fillable)}, "
                f"cheapest {_share(v.take[i].cheapest)}"
                for v in structure.venues
            ),
        )
    routing = Table(title=f"routing preference for {route_size:g} units (cheapest median first)")
    routing.add_column("rank", justify="right")
    routing.add_column("venue")
    routing.add_column("median cost bps", justify="right")
    ranked = structure.routing(route_size)
    for rank, (venue_name, bps) in enumerate(ranked, 1):
        routing.add_row(str(rank), venue_name, f"{bps:.2f}")
    if not ranked:
        routing.add_row("-", "no venue could fill it half the time", "-")
    return [venues, cost, routing]


def to_json(structure: Structure, route_size: float) -> str:
    data: dict[str, Any] = attrs.asdict(structure)
    data["routing"] = {"size": route_size, "venues": structure.routing(route_size)}
    return json.dumps(data, indent=1)
