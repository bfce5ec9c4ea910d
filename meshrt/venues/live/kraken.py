"""Kraken Spot feed adapter: WebSocket v2 ``book``/``trade``/``instrument``, and v1 ``book``.

Pure: the session (a later step) calls ``KrakenFeed.on_frame(text, ts_ns)`` with each
frame's text and receive time and acts on what comes back, in order: the outputs of
meshrt/venues/live/verdicts.py (``Feed``, ``Resync``, ``FrameError``, and a ``Reference``
per subscribed pair an ``instrument`` message describes). A book message is
verified (CRC32 over the top 10, after truncation to the subscribed depth) before any of
its events leave, so no unverified book reaches a venue. v1 is read by the same code: the
shared real capture is v1 (docs/live.md, "Kraken").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_TRADE, FeedEvent
from meshrt.venues.live import kraken_wire as wire
from meshrt.venues.live.crossing import CROSSED_GRACE_NS, CrossedClock, Crossing
from meshrt.venues.live.kraken_book import KrakenBook, Precision
from meshrt.venues.live.kraken_values import SYMBOLS, Instrument, KrakenCounts, PairCounts
from meshrt.venues.live.refdata import kraken_reference
from meshrt.venues.live.verdicts import Feed, FrameError, Output, Resync, Why
from meshrt.venues.recorded_fields import INT64_MAX, Bad, price, size

BUY = Side.BUY
SELL = Side.SELL
# what a message that is not as documented raises while it is read: a FrameError, never
# raised on to the session
MESSAGE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)
_SIDES = {"buy": BUY, "sell": SELL, "b": BUY, "s": SELL}


class _Pair:
    """One subscribed pair: its book while it is up, and its counts."""

    __slots__ = (
        "book",
        "checksum_ok",
        "resyncs",
        "snapshots",
        "symbol",
        "updates",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.book: KrakenBook | None = None
        self.snapshots = self.updates = self.checksum_ok = self.resyncs = 0


class KrakenFeed:
    """Frames in, feed events and integrity verdicts out, for one connection's pairs."""

    def __init__(
        self,
        pairs: list[str],
        *,
        depth: int = 10,
        symbols: Mapping[str, str] = SYMBOLS,
        crossed_grace_ns: int = CROSSED_GRACE_NS,
    ) -> None:
        KrakenBook(depth, None)  # refuses a depth Kraken does not offer, now
        unmapped = [pair for pair in pairs if pair not in symbols]
        if unmapped:
            raise ValueError(f"no scenario symbol for Kraken pairs {unmapped}: pass symbols=")
        self.depth = depth
        self._crossed = CrossedClock(crossed_grace_ns)
        self.instruments: dict[str, Instrument] = {}
        self._precision: dict[str, Precision] = {}
        self._pairs = {pair: _Pair(symbols[pair]) for pair in pairs}
        self._n = dict.fromkeys(_COUNT_NAMES, 0)
        self._values = wire.Values()

    # -- reading ------------------------------------------------------------------------

    def on_frame(self, text: str, ts_ns: int) -> list[Output]:
        """Everything one frame received at ``ts_ns`` means, in order; never raises for what
        the frame holds."""
        n = self._n
        n["frames"] += 1
        out: list[Output] = []
        if self._crossed.since:
            for pair, detail in self._crossed.expired(ts_ns):
                self._resync(self._pairs[pair], pair, Why.CROSSED, detail, out)
        if text[:1] == "{":
            book = wire.book_message(text)
            if book is not None:  # the common frame, read without a JSON decoder
                try:
                    self._book(*book, ts_ns, out)
                except MESSAGE_ERRORS as e:
                    self._error(out, wire.field_of(e), f"{type(e).__name__}: {e}")
                return out
        try:
            msg = wire.decode_v1(text) if text[:1] == "[" else wire.decode(text)
        except ValueError:  # orjson also refuses what json reads (an int past 64 bits)
            msg = None
        if msg is None:
            return self._exact(text, ts_ns, out)
        try:
            return self._message(msg, ts_ns, out)
        except wire.Float:
            return self._exact(text, ts_ns, out)

    def _exact(self, text: str, ts_ns: int, out: list[Output]) -> list[Output]:
        """Read the frame with every number kept as its text."""
        try:
            msg = wire.decode(text)
        except ValueError as e:
            self._error(out, "json", str(e).split(":")[0])
            return out
        return self._message(msg, ts_ns, out)

    def _message(self, msg: Any, ts_ns: int, out: list[Output]) -> list[Output]:
        n = self._n
        try:
            if type(msg) is dict:
                channel = msg.get("channel")
                if channel == "book":
                    self._v2_book(msg, ts_ns, out)
                elif channel == "trade":
                    self._v2_trades(msg, ts_ns, out)
                elif channel == "instrument":
                    self._v2_instruments(msg, ts_ns, out)
                elif channel == "heartbeat" or msg.get("event") == "heartbeat":
                    n["heartbeats"] += 1
                elif msg.get("success") is False or msg.get("status") == "error":
                    reason = msg.get("error") or msg.get("errorMessage") or "refused"
                    self._error(out, "subscription", str(reason))
            elif type(msg) is list and len(msg) >= 4 and type(msg[-2]) is str:
                name = msg[-2]
                if name.startswith("book-"):
                    self._v1_book(msg, ts_ns, out)
                elif name == "trade":
                    self._v1_trades(msg, ts_ns, out)
            else:
                self._error(out, "frame", f"unexpected {type(msg).__name__}")
        except MESSAGE_ERRORS as e:
            self._error(out, wire.field_of(e), f"{type(e).__name__}: {e}")
        return out

    def _v2_book(self, msg: dict[str, Any], ts: int, out: list[Output]) -> None:
        snapshot = msg["type"] == "snapshot"
        for entry in msg["data"]:
            pair = entry["symbol"]
            try:
                bids = [(level["price"], level["qty"]) for level in entry["bids"]]
                asks = [(level["price"], level["qty"]) for level in entry["asks"]]
                checksum = int(entry["checksum"])
            except (KeyError, TypeError, ValueError) as e:
                self._malformed_book(pair, wire.field_of(e), out)
                continue
            self._book(pair, snapshot, bids, asks, checksum, ts, out)

    def _v1_book(self, msg: list[Any], ts: int, out: list[Output]) -> None:
        pair = msg[-1]
        payloads = msg[1:-2]
        first = payloads[0]
        try:
            if "as" in first or "bs" in first:
                bids = [(level[0], level[1]) for level in first.get("bs", ())]
                asks = [(level[0], level[1]) for level in first.get("as", ())]
                wire.texts(bids, asks)
                self._book(pair, True, bids, asks, None, ts, out)
                return
            bids, asks, checksum = [], [], None
            republished = 0
            for payload in payloads:
                for level in payload.get("b", ()):
                    bids.append((level[0], level[1]))
                    republished += len(level) > 3 and level[3] == "r"
                for level in payload.get("a", ()):
                    asks.append((level[0], level[1]))
                    republished += len(level) > 3 and level[3] == "r"
                if "c" in payload:
                    checksum = int(payload["c"])
            wire.texts(bids, asks)
        except (IndexError, TypeError, ValueError, AttributeError) as e:
            self._malformed_book(pair, wire.field_of(e), out)
            return
        self._n["republished"] += republished
        self._book(pair, False, bids, asks, checksum, ts, out)

    # -- the book rule, one home for v1 and v2 ------------------------------------------

    def _book(
        self,
        pair: str,
        snapshot: bool,
        bids: wire.Levels,
        asks: wire.Levels,
        checksum: int | None,
        ts: int,
        out: list[Output],
    ) -> None:
        n = self._n
        n["book_messages"] += 1
        state = self._pairs.get(pair)
        if state is None:
            n["unknown_pairs"] += 1
            return
        if snapshot:
            state.book = KrakenBook(self.depth, self._precision.get(pair))
            state.snapshots += 1
            n["snapshots"] += 1
        elif state.book is None:
            n["dropped"] += 1
            return
        else:
            state.updates += 1
            n["updates"] += 1
        book = state.book
        events: list[FeedEvent] = []
        try:
            self._apply(BUY, bids, book, book.bids, snapshot, ts, events)
            self._apply(SELL, asks, book, book.asks, snapshot, ts, events)
        except Bad as e:
            n["refused"] += 1
            self._resync(state, pair, Why.REFUSED, f"{e.field}: {e.reason}", out)
            return
        except TypeError as e:  # a level value that is not a number's text (a list, an object)
            n["malformed"] += 1
            self._resync(state, pair, Why.MALFORMED, f"level: {e}", out)
            return
        gone = book.truncate()
        if gone is not None:
            gone_bids, gone_asks = gone
            n["truncated"] += len(gone_bids) + len(gone_asks)
            if not snapshot:
                events += [(ts, FEED_DELTA, BUY, p, 0) for p in gone_bids]
                events += [(ts, FEED_DELTA, SELL, p, 0) for p in gone_asks if p <= INT64_MAX]
        if checksum is not None:
            got = book.checksum()
            if got != checksum:
                n["checksum_bad"] += 1
                self._resync(state, pair, Why.CHECKSUM, f"{got} != {checksum}", out)
                return
            n["checksum_ok"] += 1
            state.checksum_ok += 1
        crossing = self._crossed.check(pair, book.crossed(), ts)
        if crossing is Crossing.CLEAR:
            if snapshot:
                out.append(Feed(state.symbol, (book.snapshot(ts),)))
            elif events:
                out.append(Feed(state.symbol, tuple(events)))
        elif crossing is Crossing.UNCROSSED:
            out.append(Feed(state.symbol, (book.snapshot(ts),)))
        elif crossing is Crossing.CROSSED:
            n["crossed"] += 1

    def _apply(
        self,
        side: Side,
        levels: wire.Levels,
        book: KrakenBook,
        book_side: Any,
        snapshot: bool,
        ts: int,
        events: list[FeedEvent],
    ) -> None:
        """Set one side's levels in wire order; unless a snapshot, each level that changed
        is counted and becomes an event (but an ask past the contract's range: counted)."""
        precision = book.precision
        values = self._values
        prices, sizes = values.prices, values.sizes
        if not levels and not snapshot:
            return
        changes = deletes = far = 0
        loaded: list[tuple[int, int, str]] = []
        for price_value, qty_value in levels:
            p, p_digits = prices.get(price_value) or values.price(price_value)
            s, q_digits = sizes.get(qty_value) or values.size(qty_value)
            if p > INT64_MAX and side is BUY:
                raise Bad("price", f"bid {price_value} does not fit 64-bit fixed point")
            if not s:
                digits = ""
            elif precision is None:
                digits = p_digits + q_digits
            else:
                digits = precision.digits(p, s)
            if snapshot:
                loaded.append((p, s, digits))
            elif book_side.set(p, s, digits):
                changes += 1
                deletes += not s
                if p <= INT64_MAX:
                    events.append((ts, FEED_DELTA, side, p, s))
                else:
                    far += 1
        if snapshot:
            book_side.load(loaded)
        elif changes:
            n = self._n
            n["level_changes"] += changes
            n["deletes"] += deletes
            n["far_asks"] += far

    def _resync(self, state: _Pair, pair: str, why: Why, detail: str, out: list[Output]) -> None:
        state.book = None
        self._crossed.forget(pair)
        state.resyncs += 1
        self._n["resyncs"] += 1
        out.append(Resync(state.symbol, pair, why, detail))

    def _malformed_book(self, pair: Any, where: str, out: list[Output]) -> None:
        """A book message for a known pair that cannot be read: its book can no longer be
        trusted, so the pair resyncs as well as the frame being reported."""
        self._error(out, where, "malformed book message")
        state = self._pairs.get(pair) if isinstance(pair, str) else None
        if state is not None and state.book is not None:
            self._resync(state, pair, Why.MALFORMED, where, out)

    # -- trades and reference data ------------------------------------------------------

    def _v2_trades(self, msg: dict[str, Any], ts: int, out: list[Output]) -> None:
        if msg["type"] == "snapshot":  # recent history, not new prints
            self._n["trade_snapshots_skipped"] += len(msg["data"])
            return
        for trade in msg["data"]:
            self._trade(trade["symbol"], trade["side"], trade["price"], trade["qty"], ts, out)

    def _v1_trades(self, msg: list[Any], ts: int, out: list[Output]) -> None:
        pair = msg[-1]
        trades = msg[1]
        wire.texts([(trade[0], trade[1]) for trade in trades], [])
        for trade in trades:
            self._trade(pair, trade[3], trade[0], trade[1], ts, out)

    def _trade(self, pair: str, side: Any, p: Any, q: Any, ts: int, out: list[Output]) -> None:
        state = self._pairs.get(pair)
        if state is None:
            self._n["unknown_pairs"] += 1
            return
        aggressor = _SIDES.get(side) if isinstance(side, str) else None
        if aggressor is None:
            self._error(out, "side", f"expected buy/sell, got {side!r}")
            return
        try:
            event = (ts, FEED_TRADE, aggressor, price(p), size(q, "qty"))
        except Bad as e:
            self._n["refused"] += 1
            self._error(out, e.field, e.reason)
            return
        self._n["trades"] += 1
        last = out[-1] if out else None
        if type(last) is Feed and last.symbol == state.symbol:  # one Feed per symbol run
            out[-1] = Feed(state.symbol, (*last.events, event))
        else:
            out.append(Feed(state.symbol, (event,)))

    def _v2_instruments(self, msg: dict[str, Any], ts: int, out: list[Output]) -> None:
        for entry in msg["data"].get("pairs", ()):
            pair = entry["symbol"]
            state = self._pairs.get(pair)
            if state is None:
                continue
            try:
                cost_min = entry.get("cost_min")
                inst = Instrument(
                    pair=pair,
                    price_increment=price(entry["price_increment"], "price_increment"),
                    qty_increment=size(entry["qty_increment"], "qty_increment"),
                    qty_min=size(entry["qty_min"], "qty_min"),
                    price_precision=int(entry["price_precision"]),
                    qty_precision=int(entry["qty_precision"]),
                    cost_min=None if cost_min is None else price(cost_min, "cost_min"),
                    status=str(entry.get("status", "")),
                )
                precision = Precision(inst.price_precision, inst.qty_precision)
            except Bad as e:
                self._n["refused"] += 1
                self._error(out, e.field, f"{pair}: {e.reason}")
                continue
            self._n["instruments"] += 1
            self.instruments[pair] = inst
            self._precision[pair] = precision
            out.append(kraken_reference(inst, state.symbol))
            if state.book is not None:
                try:
                    state.book.reprecision(precision)
                except Bad as e:
                    self._n["refused"] += 1
                    self._resync(state, pair, Why.REFUSED, f"{e.field}: {e.reason}", out)

    # -- reporting ----------------------------------------------------------------------

    def _error(self, out: list[Output], where: str, reason: str) -> None:
        n = self._n
        n["malformed"] += 1
        out.append(FrameError("kraken", f"frame {n['frames']}", where, reason))

    def counts(self) -> KrakenCounts:
        pairs = {
            pair: PairCounts(s.snapshots, s.updates, s.checksum_ok, s.resyncs)
            for pair, s in self._pairs.items()
        }
        return KrakenCounts(**self._n, pairs=pairs)

    def book(self, pair: str) -> KrakenBook | None:
        """The pair's verified book, None while it is down."""
        return self._pairs[pair].book


_COUNT_NAMES = tuple(a.name for a in KrakenCounts.__attrs_attrs__ if a.name != "pairs")
