"""One factory for every exchange's adapter, so a live session and a capture playback build
them the same way (docs/live.md, "Connections").

A venue's symbols are given as scenario symbol -> exchange symbol. Each exchange's
documented table stays in its module (``SYMBOLS``); ``LiveSpec.exchange_symbol``
overrides it, and ``exchange_symbols`` is the one rule for which wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from meshrt.venues.live import binance, coinbase, kraken_values
from meshrt.venues.live.binance import BinanceSpot
from meshrt.venues.live.coinbase import AdvancedTradeFeed, ExchangeFeed
from meshrt.venues.live.crossing import CROSSED_GRACE_NS
from meshrt.venues.live.kraken import KrakenFeed
from meshrt.venues.live.verdicts import Output
from meshrt.venues.specs import LiveSpec

# exchange -> its documented table, exchange symbol -> scenario symbol
TABLES: Mapping[str, Mapping[str, str]] = {
    "kraken": kraken_values.SYMBOLS,
    "binance": binance.SYMBOLS,
    "coinbase": coinbase.SYMBOLS,
    "coinbase-advanced": coinbase.SYMBOLS,
}


class Adapter(Protocol):
    """What a session needs of an adapter (Binance also has ``snapshot``)."""

    def on_frame(self, text: str, ts_ns: int, /) -> list[Output]: ...


def exchange_symbol(exchange: str, symbol: str, override: str | None = None) -> str:
    """The exchange's name for scenario ``symbol``: ``override`` when given, else the first
    entry of the exchange's table naming it (Kraken v2 ``BTC/USD`` before v1 ``XBT/USD``)."""
    if override is not None:
        return override
    for name, scenario in TABLES[exchange].items():
        if scenario == symbol:
            return name
    raise ValueError(
        f"{exchange}: no exchange symbol for {symbol!r} in its table: "
        "give LiveSpec(exchange_symbol=...)"
    )


def exchange_symbols(specs: Sequence[LiveSpec]) -> dict[str, str]:
    """Scenario symbol -> exchange symbol for one connection's specs."""
    return {s.symbol: exchange_symbol(s.exchange, s.symbol, s.exchange_symbol) for s in specs}


def adapter_for(
    exchange: str,
    symbols: Mapping[str, str],
    *,
    depth: int = 10,
    crossed_grace_ns: int = CROSSED_GRACE_NS,
) -> Adapter:
    """A fresh adapter for ``exchange`` reading ``symbols`` (scenario -> exchange symbol);
    ``depth`` is Kraken's subscribed book depth, ``crossed_grace_ns`` how long a crossed
    book is held back before it resyncs (meshrt/venues/live/crossing.py)."""
    table = {ex: scenario for scenario, ex in symbols.items()}
    if len(table) != len(symbols):
        raise ValueError(f"{exchange}: two scenario symbols name one exchange symbol: {symbols}")
    grace = crossed_grace_ns
    if exchange == "kraken":
        return KrakenFeed(list(table), depth=depth, symbols=table, crossed_grace_ns=grace)
    if exchange == "binance":
        return BinanceSpot(list(symbols), table, crossed_grace_ns=grace)
    if exchange == "coinbase":
        return ExchangeFeed(table, crossed_grace_ns=grace)
    if exchange == "coinbase-advanced":
        return AdvancedTradeFeed(table, crossed_grace_ns=grace)
    raise ValueError(f"unknown exchange {exchange!r}")
