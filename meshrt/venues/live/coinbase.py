"""Coinbase feed adapters, pure: a frame's text and receive time in, feed events and
integrity verdicts out, the shared outputs of meshrt/venues/live/verdicts.py (docs/live.md,
"Coinbase"). No sockets: the live session calls ``on_frame`` with each frame it receives.

- ``ExchangeFeed``: the Coinbase Exchange feed, channel ``level2_batch`` (no credentials)
  or ``level2`` (authenticated, the same messages), plus ``matches``. An ``l2update``
  carries no sequence number and no checksum, so the one check the venue allows is that
  a book does not stay crossed.
- ``AdvancedTradeFeed``: Advanced Trade, channel ``level2`` (messages on ``l2_data``).
  ``sequence_num`` numbers every message on the connection, so a gap means a lost message.

A symbol whose book cannot be trusted (a sequence gap, a refused value, a malformed book
message, or crossed past the grace of meshrt/venues/live/crossing.py) gets a ``Resync``
and is down: nothing of it is emitted until its next snapshot. A frame that names no
product (unparsable, or a gap) takes down every symbol, since the lost update could have
been any symbol's.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

import attrs
import orjson

from meshrt.venues import recorded_fields as fields
from meshrt.venues.events import FEED_DELTA, FEED_TRADE
from meshrt.venues.live.crossing import CROSSED_GRACE_NS, CrossedClock, Crossing
from meshrt.venues.live.verdicts import Feed, FrameError, Output, Resync, Why

BUY = fields.BUY
SELL = fields.SELL

# Coinbase product id → scenario symbol. Coinbase already names instruments BASE-QUOTE
# with the quote explicit, so each maps to itself; only the same instrument consolidates
# across venues (BTC-USD here with BTC/USD on Kraken), never BTC-USDT or BTC-USDC.
SYMBOLS: Mapping[str, str] = {
    "BTC-USD": "BTC-USD",
    "ETH-USD": "ETH-USD",
    # the products of the recorded capture in tests/data/venues/coinbase
    "SKL-USD": "SKL-USD",
    "SKL-BTC": "SKL-BTC",
    "SKL-GBP": "SKL-GBP",
    "BAND-GBP": "BAND-GBP",
    "BAND-BTC": "BAND-BTC",
    "NMR-EUR": "NMR-EUR",
    "YFI-BTC": "YFI-BTC",
    "DASH-BTC": "DASH-BTC",
    "NU-GBP": "NU-GBP",
    "CRV-EUR": "CRV-EUR",
}

_EXCHANGE_SIDES: Mapping[str, int] = {"buy": BUY, "sell": SELL}
_ADVANCED_SIDES: Mapping[str, int] = {"bid": BUY, "offer": SELL}
_NO_ASK = 2**63


_COUNTED_AS = {
    Why.GAP: "gaps",
    Why.REFUSED: "refused",
    Why.MALFORMED: "malformed",
}


Level: TypeAlias = tuple[int, int, int]  # side (0 where the message's place says it), price, size


@attrs.frozen
class Counters:
    """What an adapter has seen so far: frames, levels applied, and every verdict."""

    frames: int
    snapshots: int
    level_changes: int  # level changes applied
    trades: int
    ignored: int  # messages of no concern: subscriptions, ticker, heartbeats, last_match
    dropped: int  # messages of a symbol that is down (before its snapshot)
    crossed: int  # crossings begun (docs/live.md, "Crossed books")
    gaps: int
    refused: int
    malformed: int
    resyncs: int


class _Problem(Exception):
    """Why a message cannot be used. ``product`` goes down: None for every product (a
    lost update could have been any one's), ``""`` for none (not a book of ours)."""

    def __init__(self, why: Why, product: str | None, field: str, reason: str) -> None:
        super().__init__(why, product, field, reason)
        self.why, self.product, self.field, self.reason = why, product, field, reason


class _Book:
    """Price → size per side, with the best prices kept so the cross check is O(1)."""

    __slots__ = ("asks", "best_ask", "best_bid", "bids")

    def __init__(self, bids: dict[int, int], asks: dict[int, int]) -> None:
        self.bids, self.asks = bids, asks
        self.best_bid = max(bids, default=0)
        self.best_ask = min(asks, default=_NO_ASK)

    def set(self, side: int, price: int, size: int) -> None:
        if side == BUY:
            if size:
                self.bids[price] = size
                if price > self.best_bid:
                    self.best_bid = price
            elif self.bids.pop(price, None) is not None and price == self.best_bid:
                self.best_bid = max(self.bids, default=0)
        elif size:
            self.asks[price] = size
            if price < self.best_ask:
                self.best_ask = price
        elif self.asks.pop(price, None) is not None and price == self.best_ask:
            self.best_ask = min(self.asks, default=_NO_ASK)


def _exact_json(text: str | bytes) -> Any:
    """The frame again with JSON numbers as Decimal, exactly as written."""
    return json.loads(text, parse_float=Decimal)


def _level(
    row: object, product: str, where: str, sides: Mapping[str, int] | None, zero_ok: bool
) -> Level:
    """``[side, price, size]`` (or ``[price, size]`` with ``sides`` None) to fixed point."""
    if not isinstance(row, list) or len(row) != (2 if sides is None else 3):
        raise _Problem(Why.MALFORMED, product, where, f"unexpected level {row!r}")
    if sides is None:
        side, price, size = 0, row[0], row[1]
    else:
        side_text, price, size = row
        side = sides.get(side_text, 0) if type(side_text) is str else 0
        if not side:
            raise _Problem(Why.MALFORMED, product, where, f"unknown side {side_text!r}")
    fixed_price = _PRICES.get(price) if type(price) is str else None
    fixed_size = _SIZES.get(size) if type(size) is str else None
    if fixed_price is not None and fixed_size is not None and (fixed_size or zero_ok):
        return side, fixed_price, fixed_size  # texts read before: a book's prices repeat
    try:
        return (
            side,
            _remember(_PRICES, price, fields.price(price)),
            _remember(_SIZES, size, fields.size(size, zero_ok=zero_ok)),
        )
    except fields.Bad as e:
        raise _Problem(Why.REFUSED, product, f"{where}.{e.field}", e.reason) from None


# price and size texts already read (recorded_fields' rule is the one home: these only
# remember its results), bounded: each starts over at _MEMO entries
_MEMO = 1 << 16
_PRICES: dict[str, int] = {}
_SIZES: dict[str, int] = {}


def _remember(memo: dict[str, int], text: object, fixed: int) -> int:
    if type(text) is str:
        if len(memo) >= _MEMO:
            memo.clear()
        memo[text] = fixed
    return fixed


class _Adapter(abc.ABC):
    """Frames in, outputs out; the per-symbol books and the counters both protocols share."""

    def __init__(
        self, symbols: Mapping[str, str] = SYMBOLS, *, crossed_grace_ns: int = CROSSED_GRACE_NS
    ) -> None:
        self._symbols = dict(symbols)
        self._books: dict[str, _Book] = {}  # product → book, only while the product is up
        self._tally = dict.fromkeys(attrs.fields_dict(Counters), 0)
        self._crossed = CrossedClock(crossed_grace_ns)

    def counters(self) -> Counters:
        return Counters(**self._tally)

    def up(self, product: str) -> bool:
        return product in self._books

    def on_frame(self, text: str | bytes, ts_ns: int) -> list[Output]:
        """Everything one frame (received at ``ts_ns``) means, in order."""
        self._tally["frames"] += 1
        out: list[Output] = []
        if self._crossed.since:
            for product, detail in self._crossed.expired(ts_ns):
                self._down(product, Why.CROSSED, detail, out)
        try:
            message = orjson.loads(text)
            if type(message) is not dict:
                raise _Problem(Why.MALFORMED, None, "json", "expected an object")
        except orjson.JSONDecodeError as e:
            self._fail(_Problem(Why.MALFORMED, None, "json", f"invalid JSON ({e})"), out)
            return out
        except _Problem as p:
            self._fail(p, out)
            return out
        try:
            self._message(message, ts_ns, out)
        except fields.Inexact:  # a float on the wire: parsing touches no state, so redo
            self._message(_exact_json(text), ts_ns, out)
        return out

    @abc.abstractmethod
    def _message(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        """Apply one decoded message of this feed's protocol."""

    def _product(self, product: object, field: str = "product_id") -> str:
        """``product`` itself, once it is known to be one of the table's."""
        if type(product) is not str:  # a lost update, of any product
            raise _Problem(Why.MALFORMED, None, field, f"expected a product id, {product!r}")
        if product not in self._symbols:  # not subscribed here: no book of ours is wrong
            raise _Problem(Why.MALFORMED, "", field, f"unknown product {product!r}")
        return product

    def _fail(self, problem: _Problem, out: list[Output]) -> None:
        """Count and report a problem; the product it names (or every product) goes down."""
        tally = self._tally
        tally[_COUNTED_AS[problem.why]] += 1
        if problem.why is not Why.GAP:
            where = f"frame {tally['frames']}"
            out.append(FrameError("coinbase", where, problem.field, problem.reason))
        if problem.product is None:
            products = list(self._books)
        else:
            products = [problem.product] if problem.product else []
        detail = f"{problem.field}: {problem.reason}"
        for product in products:
            self._down(product, problem.why, detail, out)

    def _down(self, product: str, why: Why, detail: str, out: list[Output]) -> None:
        """The product's book is dropped until its next snapshot."""
        self._books.pop(product, None)
        self._crossed.forget(product)
        self._tally["resyncs"] += 1
        out.append(Resync(self._symbols[product], product, why, detail))

    def _deliver(self, product: str, ts: int, deltas: list[Level] | None) -> Feed | None:
        """The crossed-book rule on ``product``'s book after a message: its ``deltas``
        (None: it was a snapshot), the whole book once it uncrossed, nothing while crossed."""
        book = self._books[product]
        crossed = book.best_bid >= book.best_ask
        if not crossed and deltas is not None and product not in self._crossed.since:
            # the common case, the clock's CLEAR without the call
            events = tuple([(ts, FEED_DELTA, side, price, size) for side, price, size in deltas])
            return Feed(self._symbols[product], events)
        crossing = self._crossed.check(product, crossed, ts)
        if crossing is Crossing.CLEAR and deltas is not None:
            events = tuple([(ts, FEED_DELTA, side, price, size) for side, price, size in deltas])
            return Feed(self._symbols[product], events)
        if crossing is Crossing.CLEAR or crossing is Crossing.UNCROSSED:
            event = fields.book(ts, book.bids, book.asks, "snapshot")
            return Feed(self._symbols[product], (event,))
        self._tally["crossed"] += crossing is Crossing.CROSSED
        return None

    def _snapshot(self, product: str, rows: list[Level], ts: int) -> Feed | None:
        """A fresh book from ``(side, price, size)`` rows; the product is up again."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        try:
            for side, price, size in rows:
                fields.add_level(bids if side == BUY else asks, price, size, "snapshot")
        except fields.Bad as e:
            raise _Problem(Why.MALFORMED, product, e.field, e.reason) from None
        self._books[product] = _Book(bids, asks)
        self._tally["snapshots"] += 1
        return self._deliver(product, ts, None)

    def _update(self, product: str, rows: list[Level], ts: int) -> Feed | None:
        """Apply level changes in order."""
        book = self._books[product]
        for side, price, size in rows:
            book.set(side, price, size)
        self._tally["level_changes"] += len(rows)
        return self._deliver(product, ts, rows)


def subscribe_request(products: list[str], *, authenticated: bool) -> dict[str, Any]:
    """The Exchange feed's subscribe message: ``level2`` needs credentials (the session
    adds the signature fields), ``level2_batch`` does not; both send the same messages."""
    book = "level2" if authenticated else "level2_batch"
    return {"type": "subscribe", "product_ids": products, "channels": [book, "matches"]}


class ExchangeFeed(_Adapter):
    """Coinbase Exchange: ``snapshot`` / ``l2update`` / ``match`` messages."""

    def _message(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        handler = self._HANDLERS.get(message.get("type"))  # type: ignore[arg-type]
        if handler is None:
            self._tally["ignored"] += 1
            return
        try:
            feed = handler(self, message, ts)
        except _Problem as p:
            self._fail(p, out)
            return
        if feed is not None:
            out.append(feed)

    def _rows(self, message: dict[str, Any], key: str, product: str) -> Any:
        rows = message.get(key)
        if type(rows) is not list:
            raise _Problem(Why.MALFORMED, product, key, "expected a list")
        return rows

    def _on_snapshot(self, message: dict[str, Any], ts: int) -> Feed | None:
        product = self._product(message.get("product_id"))
        levels: list[Level] = [
            (side, *_level(row, product, f"{key}[{i}]", None, False)[1:])
            for key, side in (("bids", BUY), ("asks", SELL))
            for i, row in enumerate(self._rows(message, key, product))
        ]
        return self._snapshot(product, levels, ts)

    def _on_l2update(self, message: dict[str, Any], ts: int) -> Feed | None:
        product = self._product(message.get("product_id"))
        rows = self._rows(message, "changes", product)
        changes = [
            _level(row, product, f"changes[{i}]", _EXCHANGE_SIDES, True)
            for i, row in enumerate(rows)
        ]
        if product not in self._books:
            self._tally["dropped"] += 1
            return None
        return self._update(product, changes, ts)

    def _on_match(self, message: dict[str, Any], ts: int) -> Feed | None:
        product = self._product(message.get("product_id"))
        maker, price, size = _level(
            [message.get("side"), message.get("price"), message.get("size")],
            product,
            "match",
            _EXCHANGE_SIDES,
            False,
        )
        if product not in self._books:
            self._tally["dropped"] += 1
            return None
        self._tally["trades"] += 1
        aggressor = SELL if maker == BUY else BUY  # ``side`` is the maker order's side
        return Feed(self._symbols[product], ((ts, FEED_TRADE, aggressor, price, size),))

    def _on_error(self, message: dict[str, Any], ts: int) -> None:
        reason = f"venue error: {message.get('message')!r} ({message.get('reason')!r})"
        raise _Problem(Why.MALFORMED, "", "error", reason)

    _HANDLERS: ClassVar[dict[str, Callable[[ExchangeFeed, dict[str, Any], int], Feed | None]]] = {
        "snapshot": _on_snapshot,
        "l2update": _on_l2update,
        "match": _on_match,
        "error": _on_error,
    }


class AdvancedTradeFeed(_Adapter):
    """Coinbase Advanced Trade: ``l2_data`` messages, every message numbered in order."""

    def __init__(
        self, symbols: Mapping[str, str] = SYMBOLS, *, crossed_grace_ns: int = CROSSED_GRACE_NS
    ) -> None:
        super().__init__(symbols, crossed_grace_ns=crossed_grace_ns)
        self._last: int | None = None

    def _message(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        # parse first: it touches no state, so a float on the wire can redo it
        seq = message.get("sequence_num")
        if type(seq) is not int:
            problem = _Problem(Why.MALFORMED, None, "sequence_num", f"expected an int, {seq!r}")
            self._fail(problem, out)  # which message is missing is unknown now
            return
        events: list[_Problem | tuple[bool, str, list[Level]]] = []
        if message.get("channel") == "l2_data":
            raw = message.get("events")
            if type(raw) is list:
                events = [self._event(f"events[{i}]", event) for i, event in enumerate(raw)]
            else:
                events = [_Problem(Why.MALFORMED, None, "events", "expected a list")]
        else:
            self._tally["ignored"] += 1
        if self._last is not None and seq != self._last + 1:
            gap = f"sequence_num {seq} after {self._last}"
            self._fail(_Problem(Why.GAP, None, "sequence_num", gap), out)
        self._last = seq
        for event in events:  # each product's event on its own: one bad one downs only it
            try:
                if type(event) is _Problem:
                    raise event
                snapshot, product, rows = event  # type: ignore[misc]
                if snapshot:
                    feed = self._snapshot(product, rows, ts)
                elif product in self._books:
                    feed = self._update(product, rows, ts)
                else:
                    self._tally["dropped"] += 1
                    continue
                if feed is not None:
                    out.append(feed)
            except _Problem as p:
                self._fail(p, out)

    def _event(self, where: str, event: object) -> _Problem | tuple[bool, str, list[Level]]:
        """One ``snapshot``/``update`` event parsed, or why it cannot be used."""
        try:
            if not isinstance(event, dict) or event.get("type") not in ("snapshot", "update"):
                raise _Problem(Why.MALFORMED, None, f"{where}.type", f"unexpected {event!r}")
            kind = event["type"]
            product = self._product(event.get("product_id"), f"{where}.product_id")
            updates = event.get("updates")
            if type(updates) is not list:
                raise _Problem(Why.MALFORMED, product, f"{where}.updates", "expected a list")
            rows = [
                _level(
                    [u.get("side"), u.get("price_level"), u.get("new_quantity")]
                    if type(u) is dict
                    else u,
                    product,
                    f"{where}.updates[{j}]",
                    _ADVANCED_SIDES,
                    kind == "update",
                )
                for j, u in enumerate(updates)
            ]
        except _Problem as p:
            return p
        return kind == "snapshot", product, rows
