"""Kraken Spot feed adapter: WebSocket v2 ``book``/``trade``/``instrument``, and v1 ``book``.

Pure: the session (a later step) calls ``KrakenFeed.on_frame(text, ts_ns)`` with each
frame's text and receive time and acts on what comes back, in order: the outputs of
meshrt/venues/live/verdicts.py (``Feed``, ``Resync``, ``FrameError``, and a ``Reference``
per subscribed pair an ``instrument`` message describes). A book message is
verified (CRC32 over the top 10, after truncation to the subscribed depth) before any of
its events leave, so no unverified book reaches a venue: the book rule, one home for v2
and v1, is compiled (_kraken_rule.pyx, on the book of _kraken_book.pyx); this module
reads frames and keeps trades and reference data. The shared real capture is v1
(docs/live.md, "Kraken").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshrt.contract import Side
from meshrt.venues.events import FEED_TRADE
from meshrt.venues.live import kraken_wire as wire
from meshrt.venues.live._kraken_book import KrakenBook, Precision
from meshrt.venues.live._kraken_rule import Pair, Rule
from meshrt.venues.live.crossing import CROSSED_GRACE_NS, CrossedClock
from meshrt.venues.live.kraken_values import SYMBOLS, Instrument, KrakenCounts, PairCounts
from meshrt.venues.live.refdata import kraken_reference
from meshrt.venues.live.verdicts import Feed, FrameError, Output, Why
from meshrt.venues.recorded_fields import Bad, price, size

BUY = Side.BUY
SELL = Side.SELL
# what a message that is not as documented raises while it is read: a FrameError, never
# raised on to the session
MESSAGE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError)
_SIDES = {"buy": BUY, "sell": SELL, "b": BUY, "s": SELL}


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
        self._pairs = {pair: Pair(symbols[pair]) for pair in pairs}
        self._rule = Rule(depth, self._pairs, self._crossed, wire.Values())
        self._n = self._rule.n

    # -- reading ------------------------------------------------------------------------

    def on_frame(self, text: str, ts_ns: int) -> list[Output]:
        """Everything one frame received at ``ts_ns`` means, in order; never raises for what
        the frame holds."""
        out: list[Output] = []
        try:
            if self._rule.frame(text, ts_ns, out):  # the common frame, read in C
                return out
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
                    self._n.heartbeats += 1
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
            self._rule.book(pair, snapshot, bids, asks, checksum, ts, out)

    def _v1_book(self, msg: list[Any], ts: int, out: list[Output]) -> None:
        pair = msg[-1]
        payloads = msg[1:-2]
        first = payloads[0]
        try:
            if "as" in first or "bs" in first:
                bids = [(level[0], level[1]) for level in first.get("bs", ())]
                asks = [(level[0], level[1]) for level in first.get("as", ())]
                wire.texts(bids, asks)
                self._rule.book(pair, True, bids, asks, None, ts, out)
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
        self._n.republished += republished
        self._rule.book(pair, False, bids, asks, checksum, ts, out)

    def _malformed_book(self, pair: Any, where: str, out: list[Output]) -> None:
        """A book message for a known pair that cannot be read: its book can no longer be
        trusted, so the pair resyncs as well as the frame being reported."""
        self._error(out, where, "malformed book message")
        state = self._pairs.get(pair) if isinstance(pair, str) else None
        if state is not None and state.book is not None:
            self._rule.resync(state, pair, Why.MALFORMED, where, out)

    # -- trades and reference data ------------------------------------------------------

    def _v2_trades(self, msg: dict[str, Any], ts: int, out: list[Output]) -> None:
        if msg["type"] == "snapshot":  # recent history, not new prints
            self._n.trade_snapshots_skipped += len(msg["data"])
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
            self._n.unknown_pairs += 1
            return
        aggressor = _SIDES.get(side) if isinstance(side, str) else None
        if aggressor is None:
            self._error(out, "side", f"expected buy/sell, got {side!r}")
            return
        try:
            event = (ts, FEED_TRADE, aggressor, price(p), size(q, "qty"))
        except Bad as e:
            self._n.refused += 1
            self._error(out, e.field, e.reason)
            return
        self._n.trades += 1
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
                self._n.refused += 1
                self._error(out, e.field, f"{pair}: {e.reason}")
                continue
            self._n.instruments += 1
            self.instruments[pair] = inst
            self._rule.precision[pair] = precision
            out.append(kraken_reference(inst, state.symbol))
            if state.book is not None:
                try:
                    state.book.reprecision(precision)
                except Bad as e:
                    self._n.refused += 1
                    self._rule.resync(state, pair, Why.REFUSED, f"{e.field}: {e.reason}", out)

    # -- reporting ----------------------------------------------------------------------

    def _error(self, out: list[Output], where: str, reason: str) -> None:
        n = self._n
        n.malformed += 1
        out.append(FrameError("kraken", f"frame {n.frames}", where, reason))

    def counts(self) -> KrakenCounts:
        pairs = {
            pair: PairCounts(s.snapshots, s.updates, s.checksum_ok, s.resyncs)
            for pair, s in self._pairs.items()
        }
        n = self._n
        return KrakenCounts(**{name: getattr(n, name) for name in _COUNT_NAMES}, pairs=pairs)

    def book(self, pair: str) -> KrakenBook | None:
        """The pair's verified book, None while it is down."""
        return self._pairs[pair].book


_COUNT_NAMES = tuple(a.name for a in KrakenCounts.__attrs_attrs__ if a.name != "pairs")
