from typing import Any

from meshrt.venues.live._kraken_book import KrakenBook, Precision
from meshrt.venues.live.crossing import CrossedClock
from meshrt.venues.live.kraken_wire import Levels, Values
from meshrt.venues.live.verdicts import Output, Why

class Counts:
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
    crossed: int
    resyncs: int
    dropped: int
    heartbeats: int
    unknown_pairs: int
    far_asks: int

class Pair:
    book: KrakenBook | None
    symbol: str
    snapshots: int
    updates: int
    checksum_ok: int
    resyncs: int
    def __init__(self, symbol: str) -> None: ...

class Rule:
    depth: int
    pairs: dict[str, Pair]
    precision: dict[str, Precision]
    n: Counts
    def __init__(
        self, depth: int, pairs: dict[str, Pair], crossed: CrossedClock, values: Values
    ) -> None: ...
    def frame(self, text: str | bytes, ts: int, out: list[Output]) -> bool:
        """A frame counted, expired crossings resynced, the common frame read and applied
        (False: the caller reads it)."""
    def book(
        self,
        pair: Any,
        snapshot: bool,
        bids: Levels,
        asks: Levels,
        checksum: int | None,
        ts: int,
        out: list[Output],
    ) -> None: ...
    def resync(self, state: Pair, pair: str, why: Why, detail: str, out: list[Output]) -> None: ...
