"""The Kraken adapter's values: its symbol table, reference data and counts
(meshrt/venues/live/kraken.py makes them; its verdicts are the shared ones of verdicts.py;
docs/live.md, "Kraken")."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from attrs import field, frozen

# Exchange symbol (v2 ``BTC/USD``, v1 ``XBT/USD``) -> scenario symbol, quote explicit: the
# NBBO consolidates only one instrument, so XBT/USD and BTC/USD are BTC-USD, and BTC/USDT
# is not. Pass ``symbols=`` for pairs not listed here.
SYMBOLS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "BTC/USD": "BTC-USD",
        "XBT/USD": "BTC-USD",
        "BTC/EUR": "BTC-EUR",
        "XBT/EUR": "BTC-EUR",
        "BTC/CHF": "BTC-CHF",
        "XBT/CHF": "BTC-CHF",
        "BTC/USDT": "BTC-USDT",
        "XBT/USDT": "BTC-USDT",
        "ETH/USD": "ETH-USD",
        "ETH/EUR": "ETH-EUR",
        "ETH/CHF": "ETH-CHF",
        "ETH/BTC": "ETH-BTC",
        "ETH/XBT": "ETH-BTC",
        "ADA/BTC": "ADA-BTC",
        "ADA/XBT": "ADA-BTC",
        "GRT/ETH": "GRT-ETH",
        "KSM/BTC": "KSM-BTC",
        "KSM/XBT": "KSM-BTC",
        "MATIC/USD": "MATIC-USD",
        "OCEAN/BTC": "OCEAN-BTC",
        "OCEAN/XBT": "OCEAN-BTC",
        "OMG/USD": "OMG-USD",
        "SC/EUR": "SC-EUR",
        "WAVES/EUR": "WAVES-EUR",
        "XMR/USD": "XMR-USD",
    }
)


@frozen
class Instrument:
    """A pair's reference data from the ``instrument`` channel, in contract units."""

    pair: str
    price_increment: int
    qty_increment: int
    qty_min: int
    price_precision: int
    qty_precision: int
    cost_min: int | None  # price units (1e-9 quote); None when the venue sends none
    status: str


@frozen
class PairCounts:
    snapshots: int
    updates: int
    checksum_ok: int
    resyncs: int


@frozen
class KrakenCounts:
    frames: int
    book_messages: int
    snapshots: int
    updates: int
    checksum_ok: int
    checksum_bad: int
    level_changes: int
    deletes: int
    truncated: int
    republished: int
    trades: int
    trade_snapshots_skipped: int
    instruments: int
    refused: int
    malformed: int
    crossed: int  # crossings begun (docs/live.md, "Crossed books")
    resyncs: int
    dropped: int  # book messages of a pair that is down (before its snapshot)
    heartbeats: int
    unknown_pairs: int
    far_asks: int  # ask changes beyond the contract's price range: verified, not delivered
    pairs: Mapping[str, PairCounts] = field(factory=dict)
