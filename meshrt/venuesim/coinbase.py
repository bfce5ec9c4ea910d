"""Coinbase: the Exchange feed (``/coinbase``: ``level2``/``level2_batch``, ``matches``,
``ticker``; REST ``/products/<id>``) and Advanced Trade (``/coinbase-advanced``:
``level2`` on ``l2_data``, ``market_trades``), whose ``sequence_num`` the sim numbers per
connection over every message it sends."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from attrs import define, field

from meshrt.venuesim.protocol import Key, Protocol, Reply, Session, Tag, increment, now_iso

_SEQUENCE = re.compile(r'"sequence_num":\s*\d+')
BOOK_CHANNELS = ("level2", "level2_batch")  # the same messages; level2 asks for credentials
EXCHANGE_CHANNELS = {
    "snapshot": "level2",
    "l2update": "level2",
    "match": "matches",
    "last_match": "matches",
    "ticker": "ticker",
}


def _channels(msg: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(channel, products) of an Exchange subscribe: channels are names or objects."""
    products = [str(p) for p in msg.get("product_ids", ())]
    out = []
    for channel in msg.get("channels", ()):
        if isinstance(channel, dict):
            out.append((str(channel.get("name")), [str(p) for p in channel.get("product_ids", ())]))
        else:
            out.append((str(channel), products))
    return out


@define
class TextBook:
    """A product's book as the tape's frames build it (both Coinbase feeds send absolute
    sizes, "0" removing a level), with each level's wire text kept."""

    bids: dict[Decimal, tuple[str, str]] = field(factory=dict)
    asks: dict[Decimal, tuple[str, str]] = field(factory=dict)

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()

    def set(self, bid: bool, price: str, size: str) -> None:
        side = self.bids if bid else self.asks
        if Decimal(size):
            side[Decimal(price)] = (price, size)
        else:
            side.pop(Decimal(price), None)

    def sides(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(bids best first, asks best first)."""
        return (
            [self.bids[p] for p in sorted(self.bids, reverse=True)],
            [self.asks[p] for p in sorted(self.asks)],
        )


def _error(reason: str) -> Reply:
    error = {"type": "error", "message": "Failed to subscribe", "reason": reason}
    return Reply((json.dumps(error),))


class CoinbaseExchange(Protocol):
    name = "coinbase"

    def __init__(self) -> None:
        super().__init__()
        self.products: set[str] = set()

    def tag(self, text: str) -> Tag | None:
        msg = json.loads(text)
        channel = EXCHANGE_CHANNELS.get(msg.get("type"))
        if channel is None or "product_id" not in msg:
            return None
        self.products.add(str(msg["product_id"]))
        return Tag(str(msg["product_id"]), channel)

    def levels(self, text: str) -> Iterable[tuple[str, Any, Any]]:
        msg = json.loads(text)
        if msg.get("type") == "snapshot":
            for price, size in [*msg["bids"], *msg["asks"]]:
                yield msg["product_id"], price, size
        elif msg.get("type") == "l2update":
            for _, price, size in msg["changes"]:
                yield msg["product_id"], price, size

    def snapshot(self, key: Key, frames: list[str]) -> str | None:
        product, channel = key
        if channel != "level2" or not frames:
            return None
        book = TextBook()
        for text in frames:
            msg = json.loads(text)
            if msg.get("type") == "snapshot":
                book.clear()
                for bid, rows in ((True, msg["bids"]), (False, msg["asks"])):
                    for price, size in rows:
                        book.set(bid, price, size)
            elif msg.get("type") == "l2update":
                for side, price, size in msg["changes"]:
                    book.set(side == "buy", price, size)
        bids, asks = book.sides()
        return json.dumps(
            {"type": "snapshot", "product_id": product, "bids": bids, "asks": asks},
            separators=(",", ":"),
        )

    def request(self, text: str, session: Session, *, refuse: bool) -> Reply:
        msg = json.loads(text)
        if msg.get("type") == "unsubscribe":
            dropped = {
                (p, "level2" if channel in BOOK_CHANNELS else channel)
                for channel, products in _channels(msg)
                for p in products
            }
            return Reply(
                (json.dumps({"type": "subscriptions", "channels": []}),), dropped=frozenset(dropped)
            )
        if msg.get("type") != "subscribe":
            return Reply()
        if refuse:
            return _error("subscription refused (venue-sim fault)")
        keys = set()
        listed = []
        for channel, products in _channels(msg):
            unknown = sorted(set(products) - self.products)
            if unknown:
                return _error(f"{unknown[0]} is not a valid product")
            served = "level2" if channel in BOOK_CHANNELS else channel
            keys |= {(p, served) for p in products}
            listed.append({"name": channel, "product_ids": products})
        reply = json.dumps({"type": "subscriptions", "channels": listed})
        return Reply((reply,), frozenset(keys))

    def product(self, product: str) -> str | None:
        """``GET /products/<id>`` in the Exchange REST schema: increments are 10^-decimals
        the capture's book text shows; minimum funds one quote increment."""
        if product not in self.precision:
            return None
        price_dp, size_dp = self.precision[product]
        base, _, quote = product.partition("-")
        return json.dumps(
            {
                "id": product,
                "base_currency": base,
                "quote_currency": quote,
                "quote_increment": increment(price_dp),
                "base_increment": increment(size_dp),
                "display_name": f"{base}/{quote}",
                "min_market_funds": increment(price_dp),
                "margin_enabled": False,
                "post_only": False,
                "limit_only": False,
                "cancel_only": False,
                "status": "online",
                "status_message": "",
                "auction_mode": False,
                "trading_disabled": False,
                "fx_stablecoin": False,
            }
        )


class CoinbaseAdvanced(Protocol):
    name = "coinbase-advanced"

    def tag(self, text: str) -> Tag | None:
        msg = json.loads(text)
        channel = msg.get("channel")
        events = msg.get("events") or [{}]
        if channel == "l2_data":
            return Tag(str(events[0].get("product_id", "")), "level2", True)
        if channel == "market_trades":
            trades = events[0].get("trades") or [{}]
            return Tag(str(trades[0].get("product_id", "")), "market_trades", True)
        return None

    def levels(self, text: str) -> Iterable[tuple[str, Any, Any]]:
        msg = json.loads(text)
        if msg.get("channel") == "l2_data":
            for event in msg["events"]:
                for update in event["updates"]:
                    yield event["product_id"], update["price_level"], update["new_quantity"]

    def outgoing(self, text: str, session: Session) -> str:
        session.sequence += 1
        return _SEQUENCE.sub(f'"sequence_num":{session.sequence - 1}', text, count=1)

    def skip_sequence(self, session: Session) -> bool:
        session.sequence += 1
        return True

    def snapshot(self, key: Key, frames: list[str]) -> str | None:
        product, channel = key
        if channel != "level2" or not frames:
            return None
        book = TextBook()
        for text in frames:
            for event in json.loads(text)["events"]:
                if event.get("product_id") != product:
                    continue
                if event.get("type") == "snapshot":
                    book.clear()
                for update in event.get("updates", ()):
                    book.set(update["side"] == "bid", update["price_level"], update["new_quantity"])
        bids, asks = book.sides()
        stamp = now_iso()
        updates = [
            {"side": side, "event_time": stamp, "price_level": price, "new_quantity": size}
            for side, levels in (("bid", bids), ("offer", asks))
            for price, size in levels
        ]
        event = {"type": "snapshot", "product_id": product, "updates": updates}
        message = {
            "channel": "l2_data",
            "client_id": "",
            "timestamp": stamp,
            "sequence_num": 0,  # numbered when sent (outgoing)
            "events": [event],
        }
        return json.dumps(message, separators=(",", ":"))

    def request(self, text: str, session: Session, *, refuse: bool) -> Reply:
        msg = json.loads(text)
        channel = str(msg.get("channel", ""))
        if msg.get("type") == "unsubscribe":
            products = [str(p) for p in msg.get("product_ids", ())]
            reply = self._subscriptions({}, session)
            return Reply((reply,), dropped=frozenset((p, channel) for p in products))
        if msg.get("type") != "subscribe":
            return Reply()
        if refuse:
            error = {"type": "error", "message": "subscription refused (venue-sim fault)"}
            return Reply((json.dumps(error),))
        products = [str(p) for p in msg.get("product_ids", ())]
        text = self._subscriptions({channel: products}, session)
        return Reply((text,), frozenset((p, channel) for p in products))

    def _subscriptions(self, listed: dict[str, list[str]], session: Session) -> str:
        reply = {
            "channel": "subscriptions",
            "client_id": "",
            "timestamp": now_iso(),
            "sequence_num": 0,
            "events": [{"subscriptions": listed}],
        }
        return self.outgoing(json.dumps(reply), session)
