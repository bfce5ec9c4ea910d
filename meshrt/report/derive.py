"""Series computed from the gathered data, on every point (the statistics' source).

Equity is booked by the runtime's own ``Ledger`` (one home for the accounting rule):
each deployment's fills applied in log order and its positions marked at the feed
book's mid at every change of it, as the sequencer marks them at its venue's mid. PnL
is equity less the ledger's initial cash (0: the log holds no cash), net of fees;
drawdown is the fall from the running peak at every one of those points.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator

import attrs

from meshrt.contract import PRICE_SCALE, SIZE_SCALE, Side
from meshrt.ledger import Ledger
from meshrt.report.series import FillPoint, RunData


@attrs.frozen(slots=True)
class Curve:
    """A series at every point it changed: times in ns, values in float units."""

    times: array[int]
    values: array[float]


@attrs.frozen(slots=True)
class Equity:
    """One deployment's PnL (quote units) and drawdown at every fill and mark."""

    label: str
    pnl: Curve
    drawdown: Curve
    max_drawdown: float  # quote units, over every point
    final_pnl: float


def equity(data: RunData, label: str, venue: str) -> Equity:
    """Book ``label``'s fills into a ledger, marking at its venue's mids in time order
    (a mid at a fill's time first: in the log a fill follows the book record it crossed)."""
    ledger = Ledger()
    fills = [f for f in data.fills if f.label == label]
    held: set[str] = set()  # marked from the first fill on, as the sequencer marks
    times, pnl, drawdown = array("q"), array("d"), array("d")
    peak = 0
    streams = [_mids(data, venue, symbol) for symbol in sorted({f.symbol for f in fills})]
    for ts, _, symbol, fill, mid in heapq.merge(*streams, _fills(fills)):
        if fill is not None:
            held.add(symbol)
            side = Side.BUY if fill.sign > 0 else Side.SELL
            ledger.apply_fill(symbol, side, fill.price, fill.size, fill.fee)
        elif symbol in held:
            ledger.mark(symbol, mid)
        else:
            continue
        value = ledger.equity
        peak = max(peak, value)
        if times and times[-1] == ts:
            pnl[-1], drawdown[-1] = value / PRICE_SCALE, (value - peak) / PRICE_SCALE
            continue
        times.append(ts)
        pnl.append(value / PRICE_SCALE)
        drawdown.append((value - peak) / PRICE_SCALE)
    return Equity(
        label,
        Curve(times, pnl),
        Curve(times, drawdown),
        ledger.max_drawdown / PRICE_SCALE,
        ledger.equity / PRICE_SCALE,
    )


Event = tuple[int, int, str, FillPoint | None, int]  # ts, mid 0 / fill 1, symbol, fill, mid


def _fills(fills: list[FillPoint]) -> Iterator[Event]:
    for k, fill in enumerate(fills):
        yield fill.ts, 1 + k, fill.symbol, fill, 0


def _mids(data: RunData, venue: str, symbol: str) -> Iterator[Event]:
    series = data.tca.mids.get((venue, symbol))
    if series is None:
        return
    for ts, mid2 in zip(series.times, series.mids, strict=True):
        if mid2 >= 0:  # NO_MID: one side empty, no mark
            yield ts, 0, symbol, None, mid2 // 2


def positions(fills: list[FillPoint]) -> Curve:
    """Signed position in units after each of these fills (one symbol's), by time."""
    times, values = array("q"), array("d")
    position = 0
    for fill in fills:
        position += fill.sign * fill.size
        if times and times[-1] == fill.ts:
            values[-1] = position / SIZE_SCALE
        else:
            times.append(fill.ts)
            values.append(position / SIZE_SCALE)
    return Curve(times, values)


def mid_before(data: RunData, fill: FillPoint) -> float | None:
    """The mid (price units) of the fill's book just before its instant, or None when
    a side of it was empty: the reference a fill's spread captured is taken against."""
    series = data.tca.mids.get((fill.venue, fill.symbol))
    mid2 = series.at(fill.ts - 1) if series is not None else None
    return None if mid2 is None else mid2 / 2
