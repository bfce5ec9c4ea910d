"""Figures of what the algos earned and held, and where they traded against the price."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from meshrt.contract import PRICE_SCALE, SIZE_SCALE
from meshrt.report import derive
from meshrt.report.axes import BUY, SELL, layout, seconds, time_figure
from meshrt.report.downsample import minmax, steps, thin_points
from meshrt.report.registry import figure
from meshrt.report.series import FillPoint, RunData

MAX_PRICE_ROWS = 6


@figure(
    "pnl",
    10,
    "Equity and PnL, with drawdown",
    "PnL (equity less starting cash, net of fees) of each deployment, marked at its "
    "venue's mid; below, the fall from its running peak",
)
def pnl(data: RunData) -> Any:
    if not data.fills:
        return "no fills: every deployment's PnL stayed 0"
    fig = time_figure(data, 2, ("PnL (quote units)", "drawdown (quote units)"), (0.65, 0.35))
    stats = []
    for dep in data.deployments:
        curve = derive.equity(data, dep["label"], dep["venue"])
        if not curve.pnl.times:
            continue
        end = data.end_ns
        t, v = minmax(curve.pnl.times, curve.pnl.values)
        t, v = steps(t, v, end)
        fig.add_scatter(x=seconds(t), y=v, name=f"{dep['label']} PnL", row=1, col=1)
        t, v = minmax(curve.drawdown.times, curve.drawdown.values)
        t, v = steps(t, v, end)
        fig.add_scatter(
            x=seconds(t), y=v, name=f"{dep['label']} drawdown", fill="tozeroy", row=2, col=1
        )
        stats.append(
            f"{dep['label']}: PnL {curve.final_pnl:,.2f}, max drawdown {curve.max_drawdown:,.2f}"
        )
    fig.update_layout(title_text="; ".join(stats))
    return layout(fig, 560)


@figure(
    "inventory",
    20,
    "Inventory",
    "position of each deployment per symbol after every fill; in black, the net position "
    "per symbol across every venue",
)
def inventory(data: RunData) -> Any:
    if not data.fills:
        return "no fills: no deployment ever held a position"
    fig = time_figure(data, 1, ("position (units)",), (1.0,))
    by_holding: dict[tuple[str, str], list[FillPoint]] = defaultdict(list)
    by_symbol: dict[str, list[FillPoint]] = defaultdict(list)
    for fill in data.fills:
        by_holding[fill.label, fill.symbol].append(fill)
        by_symbol[fill.symbol].append(fill)
    for (label, symbol), fills in by_holding.items():
        _position_line(fig, data, derive.positions(fills), f"{label} {symbol}", {})
    if len(data.deployments) > 1:
        for symbol, fills in by_symbol.items():
            fills.sort(key=lambda f: f.ts)  # the log's order already; stable across labels
            line = {"width": 1.5, "color": "#222"}
            _position_line(fig, data, derive.positions(fills), f"net {symbol}", line)
    return layout(fig, 380)


def _position_line(fig: Any, data: RunData, curve: derive.Curve, name: str, line: Any) -> None:
    t, v = minmax(curve.times, curve.values)
    t, v = steps([0, *t], [0.0, *v], data.end_ns)
    fig.add_scatter(x=seconds(t), y=v, name=name, line_shape="hv", line=line, row=1, col=1)


@figure(
    "price",
    30,
    "Price, fills and quotes",
    "each traded venue symbol's mid (the feed book's), the algos' limit prices sent "
    "(dots) and their fills (triangles: up a buy, down a sell)",
)
def price(data: RunData) -> Any:
    traded = sorted({(f.venue, f.symbol) for f in data.fills})
    quoted = {(q_venue, symbol) for q_venue, symbol in _quoted_books(data)}
    books = sorted(set(traded) | quoted)[:MAX_PRICE_ROWS] or sorted(data.tca.mids)[:1]
    if not books:
        return "no book in the log"
    fig = time_figure(data, len(books), [f"{v} {s}" for v, s in books], [1.0] * len(books))
    for row, (venue, symbol) in enumerate(books, start=1):
        series = data.tca.mids.get((venue, symbol))
        if series is not None:
            times = [t for t, m in zip(series.times, series.mids, strict=True) if m >= 0]
            mids = [m / 2 / PRICE_SCALE for m in series.mids if m >= 0]
            t, v = minmax(times, mids)
            t, v = steps(t, v, data.end_ns)
            fig.add_scatter(
                x=seconds(t),
                y=v,
                name=f"{venue} {symbol} mid",
                line_shape="hv",
                line={"color": "#555", "width": 1},
                row=row,
                col=1,
            )
        for dep in data.deployments:
            if dep["venue"] != venue:
                continue
            _quotes(fig, data, dep["label"], row)
        _fills(fig, data, venue, symbol, row)
    return layout(fig, 260 + 240 * len(books))


def _quoted_books(data: RunData) -> set[tuple[str, str]]:
    venue_of = {dep["label"]: dep["venue"] for dep in data.deployments}
    symbols = {dep["label"]: dep["symbols"] for dep in data.deployments}
    return {
        (venue_of[label], symbols[label][0])
        for label in data.quotes
        if label in venue_of and len(symbols[label]) == 1
    }


def _quotes(fig: Any, data: RunData, label: str, row: int) -> None:
    quotes = data.quotes.get(label)
    if quotes is None:
        return
    for sign, name, colour in ((1, "bids", BUY), (-1, "asks", SELL)):
        picked = [k for k, s in enumerate(quotes.signs) if s == sign]
        times = [quotes.times[k] for k in picked]
        prices = [quotes.prices[k] / PRICE_SCALE for k in picked]
        keep = thin_points(times, prices)
        fig.add_scatter(
            x=[times[k] / 1e9 for k in keep],
            y=[prices[k] for k in keep],
            name=f"{label} {name} sent",
            mode="markers",
            marker={"size": 3, "color": colour, "opacity": 0.35},
            row=row,
            col=1,
        )


def _fills(fig: Any, data: RunData, venue: str, symbol: str, row: int) -> None:
    sides = ((1, "buys", BUY, "triangle-up"), (-1, "sells", SELL, "triangle-down"))
    for sign, name, colour, shape in sides:
        fills = [
            f for f in data.fills if f.venue == venue and f.symbol == symbol and f.sign == sign
        ]
        times = [f.ts for f in fills]
        prices = [f.price / PRICE_SCALE for f in fills]
        keep = thin_points(times, prices)
        fig.add_scatter(
            x=[times[k] / 1e9 for k in keep],
            y=[prices[k] for k in keep],
            name=f"{venue} fills: {name}",
            mode="markers",
            text=[f"{fills[k].label} {fills[k].size / SIZE_SCALE:g}" for k in keep],
            marker={"size": 8, "color": colour, "symbol": shape, "line": {"width": 0.5}},
            row=row,
            col=1,
        )


@figure(
    "spread",
    40,
    "Spread captured",
    "per deployment, the running sum over its fills of (mid just before the fill - fill "
    "price) x size, sign flipped for sells: + is bought below or sold above the mid",
)
def spread(data: RunData) -> Any:
    if not data.fills:
        return "no fills"
    fig = time_figure(data, 1, ("spread captured (quote units, cumulative)",), (1.0,))
    stats = []
    for dep in data.deployments:
        label = dep["label"]
        times: list[int] = []
        totals: list[float] = []
        total = weighted = size = 0.0
        for fill in data.fills:
            if fill.label != label:
                continue
            mid = derive.mid_before(data, fill)
            if mid is None:
                continue
            edge = fill.sign * (mid - fill.price)  # price units a unit of size
            total += edge * fill.size / SIZE_SCALE / PRICE_SCALE
            weighted += edge / mid * 1e4 * fill.size
            size += fill.size
            times.append(fill.ts)
            totals.append(total)
        if not times:
            continue
        t, v = minmax(times, totals)
        t, v = steps([0, *t], [0.0, *v], data.end_ns)
        fig.add_scatter(x=seconds(t), y=v, name=label, line_shape="hv", row=1, col=1)
        stats.append(f"{label}: {total:,.2f} (avg {weighted / size:+.2f} bps of the mid)")
    fig.update_layout(title_text="; ".join(stats))
    return layout(fig, 380)
