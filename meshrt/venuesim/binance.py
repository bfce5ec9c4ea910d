"""Binance Spot: combined streams (``/binance/stream?streams=...``, frames wrapped as
``{"stream", "data"}``) and raw streams (``/binance/ws[/<stream>]``, the data alone), the
``SUBSCRIBE`` method, and the REST ``/api/v3/depth`` and ``/api/v3/exchangeInfo``.

A depth snapshot is the book the sim has replayed so far: the capture's own REST snapshot
(the cryptofeed REST log, or hftbacktest's inline ``{"lastUpdateId"...}`` line) with every
later depth event a connection has passed applied, so a snapshot asked after a gap still
bridges the stream."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from attrs import define, field

from meshrt.venues.live.binance import SYMBOLS
from meshrt.venuesim.protocol import Protocol, Reply, Session, Tag, increment

QUOTES = ("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "GBP", "TRY")
DEFAULT_LIMIT, MAX_LIMIT = 100, 5000


@define
class DepthBook:
    """A symbol's book as text levels, at ``last_id``."""

    last_id: int
    bids: dict[Decimal, tuple[str, str]] = field(factory=dict)
    asks: dict[Decimal, tuple[str, str]] = field(factory=dict)

    @classmethod
    def from_snapshot(cls, body: str) -> DepthBook:
        snap = json.loads(body)
        book = cls(int(snap["lastUpdateId"]))
        book._set(book.bids, snap["bids"])
        book._set(book.asks, snap["asks"])
        return book

    def apply(self, data: dict[str, Any]) -> None:
        if int(data["u"]) <= self.last_id:
            return  # already in the book
        self._set(self.bids, data["b"])
        self._set(self.asks, data["a"])
        self.last_id = int(data["u"])

    @staticmethod
    def _set(side: dict[Decimal, tuple[str, str]], levels: Iterable[list[str]]) -> None:
        for price, qty in levels:
            if Decimal(qty):
                side[Decimal(price)] = (price, qty)
            else:
                side.pop(Decimal(price), None)

    def body(self, limit: int) -> str:
        bids = [list(self.bids[p]) for p in sorted(self.bids, reverse=True)[:limit]]
        asks = [list(self.asks[p]) for p in sorted(self.asks)[:limit]]
        return json.dumps(
            {"lastUpdateId": self.last_id, "bids": bids, "asks": asks}, separators=(",", ":")
        )


def split_symbol(symbol: str) -> tuple[str, str]:
    """(base, quote): from the adapter's table, else by a known quote suffix."""
    if symbol in SYMBOLS:
        base, _, quote = SYMBOLS[symbol].partition("-")
        return base, quote
    quote = next((q for q in QUOTES if symbol.endswith(q) and symbol != q), symbol[-4:])
    return symbol[: -len(quote)], quote


class Binance(Protocol):
    name = "binance"
    padded = True

    def __init__(self) -> None:
        super().__init__()
        self.books: dict[str, DepthBook] = {}
        self._inline: str | None = None  # an hftbacktest snapshot line, symbol not yet known

    def add_snapshot(self, symbol: str, body: str) -> None:
        self.books.setdefault(symbol, DepthBook.from_snapshot(body))

    def tag(self, text: str) -> Tag | None:
        if text.startswith('{"lastUpdateId"'):
            self._inline = text
            return None
        msg = json.loads(text)
        stream, data = msg.get("stream"), msg.get("data")
        if not isinstance(stream, str) or not isinstance(data, dict):
            return None
        name, _, channel = stream.partition("@")
        symbol = str(data.get("s", name.upper()))
        depth = data.get("e") == "depthUpdate"
        if depth and self._inline is not None:
            self.add_snapshot(symbol, self._inline)
            self._inline = None
        return Tag(symbol, channel, depth)

    def levels(self, text: str) -> Iterable[tuple[str, Any, Any]]:
        if '"depthUpdate"' in text:
            data = json.loads(text)["data"]
            for price, qty in [*data["b"], *data["a"]]:
                yield data["s"], price, qty

    def passed(self, text: str) -> None:
        """A connection passed this frame (sent or skipped): keep the REST book current."""
        if '"depthUpdate"' in text:
            data = json.loads(text)["data"]
            book = self.books.get(data["s"])
            if book is not None:
                book.apply(data)

    def outgoing(self, text: str, session: Session) -> str:
        if session.raw:
            data = json.loads(text)["data"]
            return json.dumps(data, separators=(",", ":"))
        return text

    def request(self, text: str, session: Session, *, refuse: bool) -> Reply:
        msg = json.loads(text)
        method, ident = msg.get("method"), msg.get("id")
        if method == "SUBSCRIBE":
            if refuse:
                error = {
                    "code": 2,
                    "msg": "Invalid request: subscription refused (venue-sim fault)",
                }
                return Reply((json.dumps({"error": error, "id": ident}),))
            reply = json.dumps({"result": None, "id": ident})
            return Reply((reply,), frozenset(stream_keys(msg.get("params", ()))))
        if method == "LIST_SUBSCRIPTIONS":
            return Reply((json.dumps({"result": [], "id": ident}),))
        return Reply((json.dumps({"result": None, "id": ident}),))

    def depth(self, symbol: str, limit: int) -> str | None:
        book = self.books.get(symbol)
        return None if book is None else book.body(limit)

    def exchange_info(self, symbols: Iterable[str]) -> str:
        """``GET /api/v3/exchangeInfo`` in Binance's documented schema: tick and step are
        10^-decimals the capture shows; minimums one step (a capture shows none)."""
        entries = []
        for symbol in symbols:
            price_dp, qty_dp = self.precision.get(symbol, (8, 8))
            base, quote = split_symbol(symbol)
            tick, step = increment(price_dp), increment(qty_dp)
            entries.append(
                {
                    "symbol": symbol,
                    "status": "TRADING",
                    "baseAsset": base,
                    "quoteAsset": quote,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                    "isSpotTradingAllowed": True,
                    "permissions": ["SPOT"],
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": tick,
                            "maxPrice": "1000000.00000000",
                            "tickSize": tick,
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": step,
                            "maxQty": "9000000.00000000",
                            "stepSize": step,
                        },
                        {
                            "filterType": "NOTIONAL",
                            "minNotional": tick,
                            "applyMinToMarket": True,
                            "maxNotional": "9000000.00000000",
                            "applyMaxToMarket": False,
                            "avgPriceMins": 5,
                        },
                    ],
                }
            )
        weight = {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": 6000,
        }
        return json.dumps(
            {
                "timezone": "UTC",
                "serverTime": 0,
                "rateLimits": [weight],
                "exchangeFilters": [],
                "symbols": entries,
            }
        )

    @property
    def symbols(self) -> list[str]:
        return sorted(self.precision)


def stream_keys(streams: Iterable[str]) -> set[tuple[str, str]]:
    """``nknusdt@depth@100ms`` -> ("NKNUSDT", "depth@100ms")."""
    keys = set()
    for stream in streams:
        name, _, channel = str(stream).partition("@")
        keys.add((name.upper(), channel))
    return keys
