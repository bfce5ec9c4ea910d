"""What a session says to each exchange: its public endpoints, the subscribe messages of a
connection, and the messages that re-snapshot some symbols after a resync (docs/live.md,
"Connections"). Pure: text in, text out; the session sends them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

import orjson
from attrs import frozen

from meshrt.venues.live.binance import streams

WS_URLS: Final = {
    "kraken": "wss://ws.kraken.com/v2",
    "binance": "wss://stream.binance.com:9443/stream",
    "coinbase": "wss://ws-feed.exchange.coinbase.com",
    "coinbase-advanced": "wss://advanced-trade-ws.coinbase.com",
}
REST_URLS: Final = {
    "binance": "https://api.binance.com",
    "coinbase": "https://api.exchange.coinbase.com",
    "coinbase-advanced": "https://api.coinbase.com",
}


def rest_url(exchange: str, url: str | None, rest: str | None) -> str | None:
    """The REST base of a session: ``rest`` when given; the exchange's public one with its
    public websocket; else the websocket's own host (a local exchange such as
    ``meshrt venue-sim`` serves both), so a session pointed at 127.0.0.1 never reaches
    the internet. None: the exchange needs no REST (Kraken)."""
    if rest is not None or exchange not in REST_URLS:
        return rest
    if url is None:
        return REST_URLS[exchange]
    scheme, _, rest_of_url = url.partition("://")
    host = rest_of_url.split("/", 1)[0]
    return f"{'https' if scheme == 'wss' else 'http'}://{host}"


@frozen(repr=False)
class CoinbaseCredentials:
    """An Exchange API key: its ``level2`` channel needs a signed subscribe."""

    key: str
    secret: str  # base64, as Coinbase issues it
    passphrase: str

    def __repr__(self) -> str:  # never print the secret
        return f"CoinbaseCredentials(key={self.key!r}, secret=..., passphrase=...)"


def _text(message: object) -> str:
    return orjson.dumps(message).decode()


def subscribe(
    exchange: str,
    symbols: Sequence[str],
    *,
    depth: int = 10,
    credentials: CoinbaseCredentials | None = None,
    timestamp: str = "",
) -> list[str]:
    """A new connection's subscribe messages for exchange ``symbols``, in sending order.
    Coinbase with ``credentials`` signs with ``timestamp`` (epoch seconds text)."""
    names = list(symbols)
    if exchange == "kraken":
        # instrument first: its precisions make the book's checksum digits exact
        return [
            _text({"method": "subscribe", "params": {"channel": "instrument"}}),
            *_kraken_book("subscribe", names, depth),
            _text(
                {
                    "method": "subscribe",
                    "params": {"channel": "trade", "symbol": names, "snapshot": False},
                }
            ),
        ]
    if exchange == "binance":
        return [_text({"method": "SUBSCRIBE", "params": streams(names), "id": 1})]
    if exchange == "coinbase":
        book = "level2" if credentials is not None else "level2_batch"
        message = {
            "type": "subscribe",
            "product_ids": names,
            "channels": [book, "matches", "heartbeat"],
        }
        if credentials is not None:
            message |= coinbase_signature(credentials, timestamp)
        return [_text(message)]
    if exchange == "coinbase-advanced":
        return [
            _text({"type": "subscribe", "channel": "heartbeats"}),
            _text({"type": "subscribe", "product_ids": names, "channel": "level2"}),
        ]
    raise ValueError(f"unknown exchange {exchange!r}")


def resubscribe(
    exchange: str,
    symbols: Sequence[str],
    *,
    depth: int = 10,
    credentials: CoinbaseCredentials | None = None,
    timestamp: str = "",
) -> list[str]:
    """Messages that give exchange ``symbols`` (and only them) a fresh book snapshot:
    unsubscribe then subscribe their book. Binance needs none: its adapter asks a REST
    snapshot itself."""
    names = list(symbols)
    if not names or exchange == "binance":
        return []
    if exchange == "kraken":
        return _kraken_book("unsubscribe", names, depth) + _kraken_book("subscribe", names, depth)
    if exchange == "coinbase":
        book = "level2" if credentials is not None else "level2_batch"
        subscribe_again: dict[str, object] = {
            "type": "subscribe",
            "product_ids": names,
            "channels": [book],
        }
        if credentials is not None:
            subscribe_again |= coinbase_signature(credentials, timestamp)
        unsubscribe = {"type": "unsubscribe", "product_ids": names, "channels": [book]}
        return [_text(unsubscribe), _text(subscribe_again)]
    if exchange == "coinbase-advanced":
        return [
            _text({"type": kind, "product_ids": names, "channel": "level2"})
            for kind in ("unsubscribe", "subscribe")
        ]
    raise ValueError(f"unknown exchange {exchange!r}")


def _kraken_book(method: str, names: list[str], depth: int) -> list[str]:
    params: dict[str, object] = {"channel": "book", "symbol": names, "depth": depth}
    if method == "subscribe":
        params["snapshot"] = True
    return [_text({"method": method, "params": params})]


def coinbase_signature(credentials: CoinbaseCredentials, timestamp: str) -> dict[str, str]:
    """The Exchange feed's authentication fields: base64 HMAC-SHA256, keyed by the decoded
    secret, of ``timestamp + "GET" + "/users/self/verify"``."""
    message = f"{timestamp}GET/users/self/verify".encode()
    digest = hmac.new(base64.b64decode(credentials.secret), message, hashlib.sha256).digest()
    return {
        "signature": base64.b64encode(digest).decode(),
        "key": credentials.key,
        "passphrase": credentials.passphrase,
        "timestamp": timestamp,
    }
