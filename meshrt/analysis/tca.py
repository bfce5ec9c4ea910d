"""Transaction cost analysis of a run, per venue and per deployment, from the log alone.

For each group of orders: fill ratio, slippage of each fill against the mid at the
order's decision, fees, and markouts (how the mid moved after each fill). Mids come
from re-building every venue's displayed book from the logged feed (``analysis.book``),
in one pass over the log; orders and fills are kept, feed records are not.

Conventions (docs/replay.md, "TCA"):

* decision mid: the mid of the feed book as committed just before the intent that
  created the order (a replace does not move it);
* slippage = (fill price - decision mid) for a buy, the opposite for a sell: positive is
  worse for the algo; bps against the decision mid;
* markout at h = (mid at fill time + h - fill price) for a buy, the opposite for a sell:
  positive is a gain for the algo; bps against the fill price; n/a when the run ended
  before fill time + h (or no two-sided book then);
* default horizons (``default_horizons``): three steps of the ladder 1 ms, 10 ms, 100 ms,
  1 s, 10 s, 1 min, 10 min, 1 h, the longest being the longest step within a quarter of
  the run's length (at least 100 ms), so a fill in the run's first three quarters has
  every markout;
* averages are weighted by fill size; fill ratio = filled size / ordered size, an
  order's size being its last (a replace can change it); fees are summed (negative is a
  rebate).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson

from meshrt.analysis.book import FeedBook, MidSeries
from meshrt.contract import Side
from meshrt.log.errors import LogTorn
from meshrt.log.reader import Record, ReplayReader, unknown_types_note

MS = 1_000_000
S = 1000 * MS
LADDER_NS: tuple[int, ...] = (MS, 10 * MS, 100 * MS, S, 10 * S, 60 * S, 600 * S, 3600 * S)
DEFAULT_COUNT = 3


def default_horizons(run_ns: int) -> tuple[int, ...]:
    """The markout horizons for a run of ``run_ns``: three steps of the ladder, the
    longest the longest step within a quarter of the run (the first three steps for a
    run under 400 ms)."""
    fits = [h for h in LADDER_NS if h <= run_ns // 4]
    last = max(len(fits), DEFAULT_COUNT)
    return LADDER_NS[last - DEFAULT_COUNT : last]


class TcaError(ValueError):
    """The question does not fit the run (e.g. a symbol no venue trades)."""


@attrs.frozen(slots=True)
class Markout:
    """A size-weighted markout over the fills whose horizon the run reached."""

    horizon_ns: int
    fills: int
    excluded: int
    price: float | None  # price units (1e-9 quote) per unit of size; None: n/a
    bps: float | None
    size: int  # the fills' size the averages weigh


def pooled(markouts: Sequence[Markout]) -> Markout:
    """One markout over the fills of several at one horizon (e.g. a sweep's deployments),
    weighted by fill size as each one is."""
    horizon = markouts[0].horizon_ns
    size = sum(m.size for m in markouts)
    return Markout(
        horizon,
        sum(m.fills for m in markouts),
        sum(m.excluded for m in markouts),
        sum(m.price * m.size for m in markouts if m.price is not None) / size if size else None,
        sum(m.bps * m.size for m in markouts if m.bps is not None) / size if size else None,
        size,
    )


@attrs.frozen(slots=True)
class TcaRow:
    """One group: a deployment at its venue, or (``deployment`` None) a venue's total."""

    venue: str
    deployment: str | None
    orders: int
    rejected: int
    ordered: int
    filled: int
    fills: int
    fill_ratio: float | None
    slippage: float | None  # price units, + worse
    slippage_bps: float | None
    slippage_fills: int  # fills with a decision mid (the others had no two-sided book)
    fees: int
    markouts: tuple[Markout, ...]


@attrs.frozen(slots=True)
class TcaReport:
    scenario: str
    symbol: str | None
    end_ns: int
    horizons_ns: tuple[int, ...]
    rows: tuple[TcaRow, ...]
    notes: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return orjson.dumps(attrs.asdict(self), option=orjson.OPT_INDENT_2)


@attrs.define(slots=True)
class _Order:
    label: str
    venue: str
    symbol: str
    sign: int  # +1 buy, -1 sell
    size: int
    decision_mid2: int | None
    rejected: bool = False


@attrs.define(slots=True)
class _Group:
    """Running sums for one row."""

    orders: int = 0
    rejected: int = 0
    ordered: int = 0
    filled: int = 0
    fills: int = 0
    fees: int = 0
    slip_weight: int = 0
    slip_fills: int = 0
    slip_sum: float = 0.0
    slip_bps_sum: float = 0.0
    # per horizon: [size, markout x size, bps x size, fills, fills excluded]
    markouts: list[list[float]] = attrs.field(factory=list)


def analyse(
    run: Path | str, symbol: str | None = None, horizons_ns: Sequence[int] | None = None
) -> TcaReport:
    """One pass over the log, then a per-fill calculation against the mid series, with
    markouts at ``horizons_ns`` (None: ``default_horizons`` of the run's end)."""
    reader = ReplayReader(run, allow_unknown_types=True)
    if symbol is not None:
        known = sorted(
            {str(name) for venue in reader.header.venues for name in venue.get("symbols", ())}
        )
        if symbol not in known:
            reader.close()
            raise TcaError(f"no symbol {symbol!r} in this run (symbols: {', '.join(known)})")
    tca = TcaPass(symbol)
    notes: list[str] = []
    last_ts = 0
    observe = tca.observe
    try:
        for rec in reader:
            last_ts = rec.event_ts
            observe(rec)
    except LogTorn as exc:
        notes.append(f"{exc} (ignored: analysed up to the last whole record)")
    notes.extend(unknown_types_note(reader))
    return tca.report(reader.header.scenario, run_end(reader, last_ts), horizons_ns, notes)


class TcaPass:
    """The TCA's work per record, for one pass over a log that a caller may share
    (``meshrt report`` reads the log once for all its figures).

    Feed records rebuild each venue symbol's book into ``mids`` (time -> twice the
    mid at every change, public for other figures over the same prices); orders and
    fills are kept; ``report`` computes the figures at the end.
    """

    __slots__ = ("symbol", "books", "mids", "orders", "fills", "intent", "notes", "_lanes")

    def __init__(self, symbol: str | None = None) -> None:
        self.symbol = symbol
        self.books: dict[tuple[str, str], FeedBook] = {}
        self.mids: dict[tuple[str, str], MidSeries] = {}
        self.orders: dict[int, _Order] = {}
        self.fills: list[tuple[int, int, int, int, int]] = []  # order id, ts, price, size, fee
        self.intent: Any = None  # the last intent record
        self.notes: list[str] = []
        self._lanes: dict[tuple[str, str], tuple[FeedBook, MidSeries]] = {}

    def observe(self, rec: Record) -> None:
        """Take one record, in log order (feed records first: they are most of a log)."""
        kind = rec.type
        symbol = self.symbol
        if kind == "delta" or kind == "snapshot":
            if symbol is not None and rec.instrument != symbol:
                return
            where: tuple[str, str] = (rec.venue, rec.instrument)  # type: ignore[assignment]
            lane = self._lanes.get(where)
            if lane is None:
                book, series = self.books[where], self.mids[where] = FeedBook(), MidSeries()
                lane = self._lanes[where] = (book, series)
            book, series = lane
            payload = rec.payload
            if kind == "delta":
                book.delta(payload[0], payload[1], payload[2])
            else:
                book.snapshot(payload[0], payload[1])
            series.record(rec.event_ts, book.mid2())
        elif kind == "intent":
            self.intent = rec
        elif kind == "order_created":
            if symbol is not None and rec.instrument != symbol:
                return
            order_id, label, client_id = rec.payload[0], rec.payload[1], rec.payload[2]
            intent = self.intent  # the sequencer logs the intent, then the order it created
            if (
                intent is None
                or intent.seq != rec.seq - 1
                or intent.source != f"algo:{label}"
                or intent.payload[3] != client_id
            ):
                self.notes.append(
                    f"order {order_id}: no intent just before order_created seq {rec.seq}; skipped"
                )
                return
            instrument = str(rec.instrument)
            decided = self.books.get((rec.venue, instrument))
            self.orders[order_id] = _Order(
                label,
                rec.venue,
                instrument,
                1 if intent.payload[1] == Side.BUY else -1,
                intent.payload[6],
                decided.mid2() if decided is not None else None,
            )
        elif kind == "fill":
            payload = rec.payload
            if payload[0] in self.orders:
                self.fills.append((payload[0], rec.event_ts, payload[1], payload[2], payload[4]))
        elif kind == "replaced":
            order = self.orders.get(rec.payload[0])
            if order is not None:
                order.size = rec.payload[2]
        elif kind == "rejected":
            order = self.orders.get(rec.payload[0])
            if order is not None:
                order.rejected = True

    def report(
        self,
        scenario: str,
        end_ns: int,
        horizons_ns: Sequence[int] | None = None,
        notes: Sequence[str] = (),
    ) -> TcaReport:
        """The figures per deployment and per venue, markouts at ``horizons_ns`` (None:
        ``default_horizons`` of the run's end)."""
        if horizons_ns is None:
            horizons_ns = default_horizons(end_ns)
        horizons_ns = tuple(horizons_ns)
        orders, mids = self.orders, self.mids
        groups: dict[tuple[str, str | None], _Group] = {}

        def group_of(order: _Order) -> tuple[_Group, _Group]:
            pair = []
            for key in ((order.venue, order.label), (order.venue, None)):
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group(
                        markouts=[[0, 0.0, 0.0, 0, 0] for _ in horizons_ns]
                    )
                pair.append(group)
            return pair[0], pair[1]

        for order in orders.values():
            for group in group_of(order):
                group.orders += 1
                group.ordered += order.size
                group.rejected += order.rejected
        for order_id, ts, price, size, fee in self.fills:
            order = orders[order_id]
            series = mids.get((order.venue, order.symbol))
            sign = order.sign
            slip = None
            if order.decision_mid2 is not None:
                slip = sign * (price - order.decision_mid2 / 2)
                slip_bps = slip / (order.decision_mid2 / 2) * 1e4
            after: list[float | None] = []
            for horizon in horizons_ns:
                if ts + horizon > end_ns or series is None:
                    after.append(None)
                    continue
                mid2 = series.at(ts + horizon)
                after.append(None if mid2 is None else sign * (mid2 / 2 - price))
            for group in group_of(order):
                group.fills += 1
                group.filled += size
                group.fees += fee
                if slip is not None:
                    group.slip_weight += size
                    group.slip_fills += 1
                    group.slip_sum += slip * size
                    group.slip_bps_sum += slip_bps * size
                for acc, markout in zip(group.markouts, after, strict=True):
                    if markout is None:
                        acc[4] += 1
                    else:
                        acc[0] += size
                        acc[1] += markout * size
                        acc[2] += markout / price * 1e4 * size
                        acc[3] += 1
        rows = [
            _row(venue, label, group, horizons_ns)
            for (venue, label), group in sorted(
                groups.items(), key=lambda item: (item[0][0], item[0][1] is None, item[0][1] or "")
            )
        ]
        return TcaReport(
            scenario, self.symbol, end_ns, horizons_ns, tuple(rows), (*self.notes, *notes)
        )


def _row(venue: str, label: str | None, group: _Group, horizons_ns: Sequence[int]) -> TcaRow:
    weight = group.slip_weight
    markouts = tuple(
        Markout(
            horizon,
            int(acc[3]),
            int(acc[4]),
            acc[1] / acc[0] if acc[0] else None,
            acc[2] / acc[0] if acc[0] else None,
            int(acc[0]),
        )
        for horizon, acc in zip(horizons_ns, group.markouts, strict=True)
    )
    return TcaRow(
        venue,
        label,
        group.orders,
        group.rejected,
        group.ordered,
        group.filled,
        group.fills,
        group.filled / group.ordered if group.ordered else None,
        group.slip_sum / weight if weight else None,
        group.slip_bps_sum / weight if weight else None,
        group.slip_fills,
        group.fees,
        markouts,
    )


def run_end(reader: ReplayReader, last_ts: int) -> int:
    """When the run ended: the summary's scenario time if it describes this very log.

    The log has no end record, so a run that stopped cleanly says when in summary.json
    (its ``events`` is the last seq); otherwise the last record's time is all we know.
    """
    summary_path = reader.path.parent / "summary.json"
    try:
        summary = orjson.loads(summary_path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return last_ts
    if (
        isinstance(summary, dict)
        and summary.get("events") == reader.last_seq
        and isinstance(summary.get("scenario_time_ns"), int)
    ):
        scenario_end: int = summary["scenario_time_ns"]
        return max(last_ts, scenario_end)
    return last_ts
