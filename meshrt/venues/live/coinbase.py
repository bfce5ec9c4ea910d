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

The book rule (levels applied, the crossed-book rule, events out) is compiled
(_coinbase_rule.pyx, on the book of _coinbase_book.pyx), and so is the reading of the
common frame, an Exchange ``l2update``; this module reads every other message (its levels
with coinbase_wire.py) and hands the rule what it parsed.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs
import orjson

from meshrt.venues import recorded_fields as fields
from meshrt.venues.events import FEED_TRADE
from meshrt.venues.live._coinbase_rule import Rule
from meshrt.venues.live.coinbase_wire import (
    ADVANCED_SIDES,
    BUY,
    EXCHANGE_SIDES,
    SELL,
    Level,
    Problem,
    exact_json,
    level,
)
from meshrt.venues.live.crossing import CROSSED_GRACE_NS, CrossedClock
from meshrt.venues.live.verdicts import Feed, FrameError, Output, Why

__all__ = [
    "BUY",
    "SELL",
    "SYMBOLS",
    "AdvancedTradeFeed",
    "Counters",
    "ExchangeFeed",
    "subscribe_request",
]

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

_COUNTED_AS = {
    Why.GAP: "gaps",
    Why.REFUSED: "refused",
    Why.MALFORMED: "malformed",
}


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


class _Adapter(abc.ABC):
    """Frames in, outputs out; the per-symbol books and the counters both protocols share."""

    _SCANS: ClassVar[bool] = False  # the compiled rule reads this feed's common frame

    def __init__(
        self, symbols: Mapping[str, str] = SYMBOLS, *, crossed_grace_ns: int = CROSSED_GRACE_NS
    ) -> None:
        self._symbols = dict(symbols)
        self._crossed = CrossedClock(crossed_grace_ns)
        self._rule = Rule(self._symbols, self._crossed, self._SCANS)
        self._n = self._rule.n
        self._books = self._rule.books  # product → book, only while the product is up

    def counters(self) -> Counters:
        n = self._n
        return Counters(**{name: getattr(n, name) for name in attrs.fields_dict(Counters)})

    def up(self, product: str) -> bool:
        return product in self._books

    def on_frame(self, text: str | bytes, ts_ns: int) -> list[Output]:
        """Everything one frame (received at ``ts_ns``) means, in order."""
        out: list[Output] = []
        if self._rule.frame(text, ts_ns, out):
            return out  # a common frame, read and applied in C
        try:
            message = orjson.loads(text)
            if type(message) is not dict:
                raise Problem(Why.MALFORMED, None, "json", "expected an object")
        except orjson.JSONDecodeError as e:
            self._fail(Problem(Why.MALFORMED, None, "json", f"invalid JSON ({e})"), out)
            return out
        except Problem as p:
            self._fail(p, out)
            return out
        try:
            self._message(message, ts_ns, out)
        except fields.Inexact:  # a float on the wire: parsing touches no state, so redo
            self._message(exact_json(text), ts_ns, out)
        return out

    @abc.abstractmethod
    def _message(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        """Apply one decoded message of this feed's protocol."""

    def _product(self, product: object, field: str = "product_id") -> str:
        """``product`` itself, once it is known to be one of the table's."""
        if type(product) is not str:  # a lost update, of any product
            raise Problem(Why.MALFORMED, None, field, f"expected a product id, {product!r}")
        if product not in self._symbols:  # not subscribed here: no book of ours is wrong
            raise Problem(Why.MALFORMED, "", field, f"unknown product {product!r}")
        return product

    def _fail(self, problem: Problem, out: list[Output]) -> None:
        """Count and report a problem; the product it names (or every product) goes down."""
        n = self._n
        setattr(n, _COUNTED_AS[problem.why], getattr(n, _COUNTED_AS[problem.why]) + 1)
        if problem.why is not Why.GAP:
            out.append(FrameError("coinbase", f"frame {n.frames}", problem.field, problem.reason))
        if problem.product is None:
            products = list(self._books)
        else:
            products = [problem.product] if problem.product else []
        detail = f"{problem.field}: {problem.reason}"
        for product in products:
            self._rule.down(product, problem.why, detail, out)

    def _snapshot(self, product: str, rows: list[Level], ts: int, out: list[Output]) -> None:
        """A fresh book from ``(side, price, size)`` rows; the product is up again."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        try:
            for side, price, size in rows:
                fields.add_level(bids if side == BUY else asks, price, size, "snapshot")
        except fields.Bad as e:
            raise Problem(Why.MALFORMED, product, e.field, e.reason) from None
        self._rule.snapshot(product, bids, asks, ts, out)


def subscribe_request(products: list[str], *, authenticated: bool) -> dict[str, Any]:
    """The Exchange feed's subscribe message: ``level2`` needs credentials (the session
    adds the signature fields), ``level2_batch`` does not; both send the same messages."""
    book = "level2" if authenticated else "level2_batch"
    return {"type": "subscribe", "product_ids": products, "channels": [book, "matches"]}


class ExchangeFeed(_Adapter):
    """Coinbase Exchange: ``snapshot`` / ``l2update`` / ``match`` messages."""

    _SCANS = True

    def _message(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        handler = self._HANDLERS.get(message.get("type"))  # type: ignore[arg-type]
        if handler is None:
            self._n.ignored += 1
            return
        try:
            handler(self, message, ts, out)
        except Problem as p:
            self._fail(p, out)

    def _rows(self, message: dict[str, Any], key: str, product: str) -> Any:
        rows = message.get(key)
        if type(rows) is not list:
            raise Problem(Why.MALFORMED, product, key, "expected a list")
        return rows

    def _on_snapshot(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        product = self._product(message.get("product_id"))
        levels: list[Level] = [
            (side, *level(row, product, f"{key}[{i}]", None, False)[1:])
            for key, side in (("bids", BUY), ("asks", SELL))
            for i, row in enumerate(self._rows(message, key, product))
        ]
        self._snapshot(product, levels, ts, out)

    def _on_l2update(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        product = self._product(message.get("product_id"))
        rows = self._rows(message, "changes", product)
        changes = [
            level(row, product, f"changes[{i}]", EXCHANGE_SIDES, True) for i, row in enumerate(rows)
        ]
        if product not in self._books:
            self._n.dropped += 1
            return
        self._rule.update(product, changes, ts, out)

    def _on_match(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        product = self._product(message.get("product_id"))
        maker, price, size = level(
            [message.get("side"), message.get("price"), message.get("size")],
            product,
            "match",
            EXCHANGE_SIDES,
            False,
        )
        if product not in self._books:
            self._n.dropped += 1
            return
        self._n.trades += 1
        aggressor = SELL if maker == BUY else BUY  # ``side`` is the maker order's side
        out.append(Feed(self._symbols[product], ((ts, FEED_TRADE, aggressor, price, size),)))

    def _on_error(self, message: dict[str, Any], ts: int, out: list[Output]) -> None:
        reason = f"venue error: {message.get('message')!r} ({message.get('reason')!r})"
        raise Problem(Why.MALFORMED, "", "error", reason)

    _HANDLERS: ClassVar[
        dict[str, Callable[[ExchangeFeed, dict[str, Any], int, list[Output]], None]]
    ] = {
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
            problem = Problem(Why.MALFORMED, None, "sequence_num", f"expected an int, {seq!r}")
            self._fail(problem, out)  # which message is missing is unknown now
            return
        events: list[Problem | tuple[bool, str, list[Level]]] = []
        if message.get("channel") == "l2_data":
            raw = message.get("events")
            if type(raw) is list:
                events = [self._event(f"events[{i}]", event) for i, event in enumerate(raw)]
            else:
                events = [Problem(Why.MALFORMED, None, "events", "expected a list")]
        else:
            self._n.ignored += 1
        if self._last is not None and seq != self._last + 1:
            gap = f"sequence_num {seq} after {self._last}"
            self._fail(Problem(Why.GAP, None, "sequence_num", gap), out)
        self._last = seq
        for event in events:  # each product's event on its own: one bad one downs only it
            try:
                if type(event) is Problem:
                    raise event
                snapshot, product, rows = event  # type: ignore[misc]
                if snapshot:
                    self._snapshot(product, rows, ts, out)
                elif product in self._books:
                    self._rule.update(product, rows, ts, out)
                else:
                    self._n.dropped += 1
            except Problem as p:
                self._fail(p, out)

    def _event(self, where: str, event: object) -> Problem | tuple[bool, str, list[Level]]:
        """One ``snapshot``/``update`` event parsed, or why it cannot be used."""
        try:
            if not isinstance(event, dict) or event.get("type") not in ("snapshot", "update"):
                raise Problem(Why.MALFORMED, None, f"{where}.type", f"unexpected {event!r}")
            kind = event["type"]
            product = self._product(event.get("product_id"), f"{where}.product_id")
            updates = event.get("updates")
            if type(updates) is not list:
                raise Problem(Why.MALFORMED, product, f"{where}.updates", "expected a list")
            rows = [
                level(
                    [u.get("side"), u.get("price_level"), u.get("new_quantity")]
                    if type(u) is dict
                    else u,
                    product,
                    f"{where}.updates[{j}]",
                    ADVANCED_SIDES,
                    kind == "update",
                )
                for j, u in enumerate(updates)
            ]
        except Problem as p:
            return p
        return kind == "snapshot", product, rows
