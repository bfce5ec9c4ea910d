"""A Kraken pair's book as the tape's frames build it: the one home of that book-building,
for the checksum fault (kraken_corrupt.py) and for the snapshot a resubscribe is sent.

Levels keep their wire text (price, volume, and v1's timestamp), so a snapshot written
from them carries the same digits the checksum covers. Every frame is truncated to the
subscribed depth after it is applied, as the exchange and the client both do."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from attrs import define, field

from meshrt.venuesim.kraken_v2 import crc

Level = tuple[bool, tuple[str, ...]]  # (is a bid, (price, volume[, timestamp]) as text)
Side = dict[Decimal, tuple[str, ...]]


def frame_levels(text: str) -> tuple[bool, list[Level]]:
    """(is a snapshot, the levels in text order) of a v1 or v2 book frame."""
    msg = json.loads(text, parse_float=str, parse_int=str)
    levels: list[Level] = []
    if isinstance(msg, list):
        payloads: list[dict[str, Any]] = msg[1:-2]
        snapshot = any("as" in p or "bs" in p for p in payloads)
        for payload in payloads:
            for key, value in payload.items():
                if key in ("as", "bs", "a", "b"):
                    levels += [(key.startswith("b"), tuple(map(str, lv[:3]))) for lv in value]
        return snapshot, levels
    for entry in msg["data"]:
        for key, value in entry.items():
            if key in ("bids", "asks"):
                levels += [(key == "bids", (str(lv["price"]), str(lv["qty"]))) for lv in value]
    return msg.get("type") == "snapshot", levels


@define
class KrakenBook:
    """One pair's book at ``depth``, from its frames in tape order."""

    depth: int
    bids: Side = field(factory=dict)
    asks: Side = field(factory=dict)

    @classmethod
    def of(cls, frames: Iterable[str], depth: int) -> KrakenBook:
        book = cls(depth)
        for text in frames:
            snapshot, levels = frame_levels(text)
            if snapshot:
                book.bids.clear()
                book.asks.clear()
            book.apply(levels)
        return book

    def copy(self) -> KrakenBook:
        return KrakenBook(self.depth, dict(self.bids), dict(self.asks))

    def apply(self, levels: Iterable[Level]) -> None:
        """Levels in order (a zero volume removes its price), then the depth cut."""
        for bid, level in levels:
            side = self.bids if bid else self.asks
            if Decimal(level[1]):
                side[Decimal(level[0])] = level
            else:
                side.pop(Decimal(level[0]), None)
        for side, best_first in ((self.bids, True), (self.asks, False)):
            for beyond in sorted(side, reverse=best_first)[self.depth :]:
                del side[beyond]

    def checksum(self) -> int:
        return crc(self.asks.values(), self.bids.values())

    def sides(self) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """(bids best first, asks best first)."""
        return (
            [self.bids[p] for p in sorted(self.bids, reverse=True)],
            [self.asks[p] for p in sorted(self.asks)],
        )


def snapshot_frame(book: KrakenBook, last: str) -> str:
    """``book`` as a snapshot frame in the protocol of ``last`` (a frame of the pair from
    the tape): v1 ``[channelID, {"as", "bs"}, "book-D", pair]``, whose v2 form gets its
    CRC32 when sent (kraken_v2.py); v2 a ``snapshot`` with its ``checksum``."""
    bids, asks = book.sides()
    msg = json.loads(last, parse_float=str, parse_int=str)
    if isinstance(msg, list):
        payload = json.dumps({"as": list(map(list, asks)), "bs": list(map(list, bids))})
        return f"[{msg[0]},{payload},{json.dumps(msg[-2])},{json.dumps(msg[-1])}]"
    symbol = json.dumps(msg["data"][0]["symbol"])
    return (
        f'{{"channel":"book","type":"snapshot","data":[{{"symbol":{symbol},'
        f'"bids":[{_v2(bids)}],"asks":[{_v2(asks)}],"checksum":{book.checksum()}}}]}}'
    )


def _v2(levels: list[tuple[str, ...]]) -> str:
    return ",".join(f'{{"price":{lv[0]},"qty":{lv[1]}}}' for lv in levels)
