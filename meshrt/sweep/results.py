"""A sweep's results: one row per point, written as results.csv and results.json, and the
top points as a table.

Both files hold only what follows from the scenario and the points (no wall-clock
figures), so a sweep gives the same files whatever its ``--jobs``. Money is in quote
units (price units / 1e9), markouts in bps of the fill price (docs/sweep.md).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from meshrt.console import table as house_table
from meshrt.contract import PRICE_SCALE
from meshrt.sweep.figures import Figures
from meshrt.sweep.grid import Axis
from meshrt.sweep.job import Result

FIGURES = ("pnl", "net_pnl", "fees", "fills", "fill_ratio", "max_drawdown", "return_dd")
MONEY = frozenset({"pnl", "net_pnl", "fees", "max_drawdown"})
LOWER_IS_BETTER = frozenset({"fees", "max_drawdown"})


def horizon_name(ns: int) -> str:
    return f"markout_{ns / 1e9:g}s_bps"


def figure_names(horizons_ns: Sequence[int]) -> tuple[str, ...]:
    return (*FIGURES, *(horizon_name(h) for h in horizons_ns))


def columns(axes: Sequence[Axis], horizons_ns: Sequence[int]) -> tuple[str, ...]:
    return ("point", *(a.name for a in axes), "status", *figure_names(horizons_ns), "events")


def figure_values(figures: Figures) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(figures, name) / PRICE_SCALE if name in MONEY else getattr(figures, name)
        for name in FIGURES
    }
    for markout in figures.markouts:
        values[horizon_name(markout.horizon_ns)] = markout.bps
    return values


def row(result: Result) -> dict[str, Any]:
    """A point's flat row: its settings, how it ended, its total figures."""
    return {
        "point": result.point.index,
        **{s.name: s.value for s in result.point.settings},
        "status": result.status,
        **figure_values(result.total),
        "events": result.events,
    }


def write(
    folder: Path, head: dict[str, Any], axes: Sequence[Axis], results: Sequence[Result]
) -> None:
    """results.csv (one row per point) and results.json (``head``, then each point's row
    with its failure and per-deployment figures)."""
    horizons = head["markout_horizons_ns"]
    with (folder / "results.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, columns(axes, horizons), lineterminator="\n")
        writer.writeheader()
        for result in results:
            writer.writerow({k: _csv(v) for k, v in row(result).items()})
    points = [
        {
            **row(result),
            "failure": result.failure,
            "deployments": {label: figure_values(f) for label, f in result.deployments},
        }
        for result in results
    ]
    (folder / "results.json").write_bytes(
        orjson.dumps({**head, "points": points}, option=orjson.OPT_INDENT_2) + b"\n"
    )


def _csv(value: Any) -> Any:
    """An empty cell for a figure that does not apply; JSON for a non-number param."""
    if value is None:
        return ""
    if isinstance(value, (bool, list, dict)):
        return orjson.dumps(value).decode()
    return value


def ranked(results: Sequence[Result], field: str) -> list[Result]:
    """Best first by ``field`` (highest, or lowest for fees and drawdown); points without
    the figure last."""
    sign = 1 if field in LOWER_IS_BETTER else -1

    def key(result: Result) -> tuple[bool, float, int]:
        value = row(result)[field]
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return (missing, 0.0 if missing else sign * value, result.point.index)

    return sorted(results, key=key)


def table(results: Sequence[Result], axes: Sequence[Axis], horizons_ns: Sequence[int]) -> Table:
    """The given points, one row each."""
    names = columns(axes, horizons_ns)
    made = house_table(*names, left=0)
    for result in results:
        values = row(result)
        made.add_row(*(_cell(name, values[name]) for name in names))
    return made


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if name in MONEY:
        return f"{value:,.2f}"
    if name == "fill_ratio":
        return f"{value:.1%}"
    if name == "return_dd" or name.startswith("markout_"):
        return f"{value:+.2f}"
    if isinstance(value, int) and not isinstance(value, bool) and name in ("fills", "events"):
        return f"{value:,}"
    return str(value) if not isinstance(value, (bool, list, dict)) else orjson.dumps(value).decode()
