"""Binance Spot feed side: diff-depth frames and REST snapshots in, feed events out.

Pure code, no sockets: the session calls ``on_frame(text, ts_ns)`` with each websocket
frame and its receive time, and ``snapshot(symbol, body, ts)`` with the body of each
``GET /api/v3/depth`` a ``NeedSnapshot`` asked for; both return the shared outputs of
meshrt/venues/live/verdicts.py. Each symbol is kept in sync by
Binance's published procedure ("How to manage a local order book correctly",
binance-spot-api-docs web-socket-streams.md; docs/live.md):

* WAIT: buffer ``depthUpdate`` events; the first one buffered asks for a snapshot.
* A snapshot with ``lastUpdateId + 1`` below the first buffered ``U`` cannot bridge: ask
  again, keep buffering. Otherwise load it and replay the buffer by the update rule:
  ``u <= lastUpdateId`` is discarded, the first event kept must hold
  ``U <= lastUpdateId + 1 <= u`` (step 5 of the docs says ``[U;u]``, but their update rule
  and every real capture accept ``U == lastUpdateId + 1``). A bridged book goes out as
  one FEED_SNAPSHOT and the symbol is LIVE.
* LIVE: ``u`` below the book's id is ignored, ``U`` above id + 1 is a gap; otherwise each
  level is a FEED_DELTA (absolute size, 0 removes) and the id becomes ``u``.
* A gap, a value the contract cannot hold or an unparsable depth event is a ``Resync``:
  the book is dropped and nothing more goes out for that symbol (trades included) until a
  new snapshot bridges. Other symbols are not touched.
* A crossed book follows the crossed-book rule of meshrt/venues/live/crossing.py: held
  back while crossed, a ``Resync`` once crossed past the grace.
"""

from __future__ import annotations

import enum
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple, TypeAlias

import attrs
import orjson

from meshrt.contract import Side
from meshrt.venues import recorded_fields as fields
from meshrt.venues.events import FEED_DELTA, FEED_TRADE, FeedEvent
from meshrt.venues.live.crossing import CROSSED_GRACE_NS, CrossedClock, Crossing
from meshrt.venues.live.verdicts import Feed, FrameError, NeedSnapshot, Output, Resync, Why

SYMBOLS: Final[Mapping[str, str]] = {
    # exchange symbol -> scenario symbol, BASE-QUOTE with the quote Binance trades in:
    # BTCUSDT is BTC against Tether, not BTC-USD (the NBBO joins only equal names)
    "BTCUSDT": "BTC-USDT",
    "ETHUSDT": "ETH-USDT",
    "BTCUSDC": "BTC-USDC",
    "ETHBTC": "ETH-BTC",
    "BTCEUR": "BTC-EUR",
    # the symbols of the recorded capture in tests/data/venues/binance
    "NKNUSDT": "NKN-USDT",
    "BLZETH": "BLZ-ETH",
    "LRCBTC": "LRC-BTC",
    "RUNEEUR": "RUNE-EUR",
}
BUFFER_LIMIT: Final = 10_000  # depth events kept while waiting for a snapshot (~17 min)
BUY: Final = Side.BUY
SELL: Final = Side.SELL
NO_BID: Final = 0  # prices are positive
NO_ASK: Final = fields.INT64_MAX
_AGGRESSOR = {True: SELL, False: BUY}  # trade "m" (the buyer was the maker) -> aggressor


class Phase(enum.Enum):
    WAIT = "buffering depth events, a snapshot asked"
    BRIDGING = "snapshot loaded, waiting for the event holding lastUpdateId + 1"
    LIVE = "in sync"


_Levels: TypeAlias = list[tuple[int, int]]


class _Depth(NamedTuple):
    first: int  # U
    last: int  # u
    bids: _Levels
    asks: _Levels


class _Refused(Exception):
    """A well-formed decimal the contract cannot hold exactly."""


@attrs.define(slots=True)
class Counters:
    """What happened to one symbol since the adapter started."""

    updates: int = 0  # depth events received
    applied: int = 0  # depth events applied to a book (the bridge replay included)
    level_changes: int = 0
    discarded: int = 0  # events with u <= lastUpdateId while bridging
    stale: int = 0  # live events with u below the book's id
    buffer_dropped: int = 0  # oldest buffered events pushed out by BUFFER_LIMIT
    snapshots: int = 0
    stale_snapshots: int = 0  # lastUpdateId + 1 below the first buffered U: asked again
    gaps: int = 0
    crossed: int = 0  # crossings begun (docs/live.md, "Crossed books")
    refused: int = 0
    malformed: int = 0  # unparsable depth events
    resyncs: int = 0
    trades: int = 0
    dropped: int = 0  # trades dropped while the book was not in sync


@attrs.define(slots=True, eq=False)
class SymbolSync:
    """One symbol's procedure state and book (prices and sizes in contract integers)."""

    exchange: str
    symbol: str
    phase: Phase = Phase.WAIT
    asked: bool = False
    buffer: deque[_Depth] = attrs.field(factory=lambda: deque(maxlen=BUFFER_LIMIT))
    bids: dict[int, int] = attrs.field(factory=dict)
    asks: dict[int, int] = attrs.field(factory=dict)
    best_bid: int = NO_BID
    best_ask: int = NO_ASK
    update_id: int = 0
    bridge: tuple[int, int] | None = None  # (U, u) of the latest bridging event
    counters: Counters = attrs.field(factory=Counters)

    def top(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """Best bid and best ask as (price, size), None for an empty side."""
        bid, ask = self.best_bid, self.best_ask
        return (
            (bid, self.bids[bid]) if bid != NO_BID else None,
            (ask, self.asks[ask]) if ask != NO_ASK else None,
        )

    def drop(self) -> None:
        self.phase = Phase.WAIT
        self.asked = False
        self.buffer.clear()
        self.bids = {}
        self.asks = {}
        self.best_bid = NO_BID
        self.best_ask = NO_ASK


@attrs.define(slots=True)
class FrameCounters:
    frames: int = 0
    malformed: int = 0
    ignored: int = 0  # well-formed frames this adapter does not use (bookTicker, kline, acks)


def streams(symbols: Iterable[str], trades: str = "trade") -> list[str]:
    """Combined-stream names for exchange ``symbols`` (``trade`` or ``aggTrade``)."""
    return [f"{s.lower()}@{k}" for s in symbols for k in ("depth@100ms", trades)]


class BinanceSpot:
    """The feed side of one Binance Spot connection (combined or raw streams)."""

    def __init__(
        self,
        symbols: Iterable[str],
        table: Mapping[str, str] = SYMBOLS,
        *,
        crossed_grace_ns: int = CROSSED_GRACE_NS,
    ) -> None:
        by_scenario = {v: k for k, v in table.items()}
        self.books: dict[str, SymbolSync] = {}
        for symbol in symbols:
            if symbol not in by_scenario:
                raise ValueError(f"{symbol!r} is not in the Binance symbol table")
            self.books[by_scenario[symbol]] = SymbolSync(by_scenario[symbol], symbol)
        self.counters = FrameCounters()
        self._crossed = CrossedClock(crossed_grace_ns)

    def on_frame(self, text: str | bytes, ts_ns: int) -> list[Output]:
        """Read one websocket frame received at ``ts_ns``."""
        self.counters.frames += 1
        expired = self._expired(ts_ns) if self._crossed.since else []
        try:
            out = self._frame(orjson.loads(text), ts_ns)
        except orjson.JSONDecodeError as e:
            out = [self._malformed("json", str(e))]
        except fields.Inexact:  # a JSON number with a fraction: read it exactly
            out = self._frame(json.loads(text, parse_float=Decimal), ts_ns)
        return expired + out if expired else out

    def snapshot(self, exchange: str, body: str | bytes, ts: int) -> list[Output]:
        """Take the REST depth snapshot a NeedSnapshot asked for, received at ``ts``."""
        expired = self._expired(ts) if self._crossed.since else []
        return expired + self._snapshot(exchange, body, ts)

    def _snapshot(self, exchange: str, body: str | bytes, ts: int) -> list[Output]:
        book = self.books[exchange]
        if book.phase is not Phase.WAIT or not book.asked:
            return []  # not asked for: a late answer to a request a resync made void
        book.asked = False
        book.counters.snapshots += 1
        try:
            obj = json.loads(body, parse_float=Decimal)
            last_id = _int(_get(obj, "lastUpdateId"), "lastUpdateId")
            bids: dict[int, int] = {}
            asks: dict[int, int] = {}
            for price, size in _levels(_get(obj, "bids"), "bids"):
                fields.add_level(bids, price, size, "bids")
            for price, size in _levels(_get(obj, "asks"), "asks"):
                fields.add_level(asks, price, size, "asks")
        except (ValueError, fields.Bad, _Refused) as e:
            self.counters.malformed += 1
            field, reason = (e.field, e.reason) if isinstance(e, fields.Bad) else ("json", str(e))
            return [FrameError("binance", f"snapshot {exchange}", field, reason), self._ask(book)]
        if book.buffer and last_id + 1 < book.buffer[0].first:
            book.counters.stale_snapshots += 1
            return [self._ask(book)]
        book.bids = bids
        book.asks = asks
        book.best_bid = max(bids, default=NO_BID)
        book.best_ask = min(asks, default=NO_ASK)
        book.update_id = last_id
        book.phase = Phase.BRIDGING
        out: list[Output] = []
        buffered = list(book.buffer)
        book.buffer.clear()
        for depth in buffered:
            self._depth(book, depth, ts, out, replay=True)
        if book.phase is Phase.LIVE and not self._crossed.held(exchange):
            out.append(Feed(book.symbol, (fields.book(ts, book.bids, book.asks, "book"),)))
        return out

    def _frame(self, obj: Any, ts: int) -> list[Output]:
        if isinstance(obj, dict) and "stream" in obj and "data" in obj:
            obj = obj["data"]
        if not isinstance(obj, dict):
            return [self._malformed("frame", f"expected an object, got {type(obj).__name__}")]
        kind = obj.get("e")
        if kind == "depthUpdate":
            return self._depth_frame(obj, ts)
        if kind == "trade" or kind == "aggTrade":
            return self._trade(obj, ts)
        self.counters.ignored += 1
        return []

    def _depth_frame(self, obj: dict[str, Any], ts: int) -> list[Output]:
        book = self.books.get(obj.get("s"))  # type: ignore[arg-type]
        if book is None:
            return [self._malformed("s", f"unsubscribed symbol {obj.get('s')!r}")]
        try:
            first = _int(obj.get("U"), "U")
            last = _int(obj.get("u"), "u")
            if first > last:
                raise fields.Bad("U", f"U {first} is above u {last}")
            depth = _Depth(first, last, _levels(obj.get("b"), "b"), _levels(obj.get("a"), "a"))
        except fields.Bad as e:
            # the event is lost, so the book (or the buffer) has a hole
            book.counters.updates += 1
            book.counters.malformed += 1
            detail = f"{e.field}: {e.reason}"
            return [self._malformed(e.field, e.reason), self._resync(book, Why.MALFORMED, detail)]
        except _Refused as e:
            book.counters.updates += 1
            book.counters.refused += 1
            return [self._resync(book, Why.REFUSED, str(e))]
        book.counters.updates += 1  # here, not above: Inexact reads the frame again
        out: list[Output] = []
        self._depth(book, depth, ts, out, replay=False)
        return out

    def _depth(
        self, book: SymbolSync, depth: _Depth, ts: int, out: list[Output], *, replay: bool
    ) -> None:
        """The update rule; ``replay`` while a snapshot replays the buffer (no output yet)."""
        phase = book.phase
        if phase is Phase.WAIT:
            if len(book.buffer) == BUFFER_LIMIT:
                book.counters.buffer_dropped += 1
            book.buffer.append(depth)
            if not book.asked:
                out.append(self._ask(book))
        elif phase is Phase.BRIDGING and depth.last <= book.update_id:
            book.counters.discarded += 1
        elif depth.last < book.update_id:
            book.counters.stale += 1
        elif depth.first > book.update_id + 1:
            book.counters.gaps += 1
            out.append(self._resync(book, Why.GAP, f"U {depth.first} after {book.update_id}"))
            self._depth(book, depth, ts, out, replay=replay)  # buffered: asks a snapshot
        elif phase is Phase.LIVE:
            events = self._apply(book, depth, ts)
            if events and not replay:
                out.append(Feed(book.symbol, tuple(events)))
        else:
            book.bridge = (depth.first, depth.last)
            book.phase = Phase.LIVE
            self._apply(book, depth, ts)
            if not replay and not self._crossed.held(book.exchange):
                out.append(Feed(book.symbol, (fields.book(ts, book.bids, book.asks, "book"),)))

    def _apply(self, book: SymbolSync, depth: _Depth, ts: int) -> list[FeedEvent]:
        """Apply a chained event: the events to deliver by the crossed-book rule (its
        deltas, the whole book once it uncrossed, none while crossed)."""
        events: list[FeedEvent] = []
        bids = book.bids
        best = book.best_bid
        for price, size in depth.bids:
            events.append((ts, FEED_DELTA, BUY, price, size))
            if size:
                bids[price] = size
                if price > best:
                    best = price
            elif bids.pop(price, None) is not None and price == best:
                best = max(bids, default=NO_BID)
        book.best_bid = best
        asks = book.asks
        best = book.best_ask
        for price, size in depth.asks:
            events.append((ts, FEED_DELTA, SELL, price, size))
            if size:
                asks[price] = size
                if price < best:
                    best = price
            elif asks.pop(price, None) is not None and price == best:
                best = min(asks, default=NO_ASK)
        book.best_ask = best
        book.update_id = depth.last
        counters = book.counters
        counters.applied += 1
        counters.level_changes += len(events)
        crossing = self._crossed.check(book.exchange, book.best_bid >= best, ts)
        if crossing is Crossing.CLEAR:
            return events
        if crossing is Crossing.UNCROSSED:
            return [fields.book(ts, book.bids, book.asks, "book")]
        counters.crossed += crossing is Crossing.CROSSED
        return []

    def _trade(self, obj: dict[str, Any], ts: int) -> list[Output]:
        book = self.books.get(obj.get("s"))  # type: ignore[arg-type]
        if book is None:
            return [self._malformed("s", f"unsubscribed symbol {obj.get('s')!r}")]
        try:
            maker = obj.get("m")
            if not isinstance(maker, bool):
                raise fields.Bad("m", f"expected true or false, got {maker!r}")
            price = _exact(obj.get("p"), "p", fields.price)
            size = _exact(obj.get("q"), "q", fields.size)
        except fields.Bad as e:
            return [self._malformed(e.field, e.reason)]
        except _Refused:
            book.counters.refused += 1  # a skipped print leaves no book wrong
            return []
        if book.phase is not Phase.LIVE:
            book.counters.dropped += 1
            return []
        book.counters.trades += 1
        return [Feed(book.symbol, ((ts, FEED_TRADE, _AGGRESSOR[maker], price, size),))]

    def _ask(self, book: SymbolSync) -> NeedSnapshot:
        book.asked = True
        return NeedSnapshot(book.exchange)

    def _resync(self, book: SymbolSync, why: Why, detail: str) -> Resync:
        book.counters.resyncs += 1
        book.drop()
        self._crossed.forget(book.exchange)
        return Resync(book.symbol, book.exchange, why, detail)

    def _expired(self, ts: int) -> list[Output]:
        """Books crossed past the grace at ``ts``: each resyncs (the procedure restarts
        with its next depth event, which asks a snapshot)."""
        return [
            self._resync(self.books[exchange], Why.CROSSED, detail)
            for exchange, detail in self._crossed.expired(ts)
        ]

    def _malformed(self, field: str, reason: str) -> FrameError:
        self.counters.malformed += 1
        return FrameError("binance", f"frame {self.counters.frames}", field, reason)


def _get(obj: object, key: str) -> object:
    if not isinstance(obj, dict):
        raise fields.Bad(key, f"expected an object, got {type(obj).__name__}")
    return obj.get(key)


def _int(value: object, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise fields.Bad(field, f"expected an update id, got {value!r}")


def _exact(value: object, field: str, convert: Callable[[object, str], int]) -> int:
    """``convert`` the value; a finite decimal it cannot hold is refused, not malformed."""
    try:
        return convert(value, field)
    except fields.Bad as e:
        try:
            number = isinstance(value, (int, Decimal)) or (
                isinstance(value, str) and Decimal(value).is_finite()
            )
        except InvalidOperation:
            number = False
        if number:
            raise _Refused(f"{field} {value}: {e.reason}") from None
        raise


def _size(value: object, field: str) -> int:
    return fields.size(value, field, zero_ok=True)


def _levels(value: object, field: str) -> _Levels:
    if not isinstance(value, list):
        raise fields.Bad(field, f"expected a list of [price, qty], got {type(value).__name__}")
    levels = []
    for level in value:
        if not isinstance(level, list) or len(level) != 2:
            raise fields.Bad(field, f"expected [price, qty], got {level!r}")
        levels.append((_exact(level[0], field, fields.price), _exact(level[1], field, _size)))
    return levels
