"""A live venue's inputs of ``Received`` items: what the live loop hands it (``Inbox``),
and a capture played back through the adapter in virtual time (``CaptureInput``).

A capture yields exactly the items a live session would have produced from the same
frames: each frame's adapter outputs (``NeedSnapshot`` excepted, the session's own
business) as one ``Received`` at its receive time. Reading is deterministic, so a run
on captures replays byte for byte.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from meshrt.venues.live import binance, coinbase, kraken_values
from meshrt.venues.live.capture import cryptofeed_frames
from meshrt.venues.live.coinbase import AdvancedTradeFeed, ExchangeFeed
from meshrt.venues.live.kraken import KrakenFeed
from meshrt.venues.live.verdicts import NeedSnapshot, Output, Received
from meshrt.venues.specs import CaptureSpec, LiveSpec

_TABLES = {
    "kraken": kraken_values.SYMBOLS,
    "binance": binance.SYMBOLS,
    "coinbase": coinbase.SYMBOLS,
    "coinbase-advanced": coinbase.SYMBOLS,
}


class Adapter(Protocol):
    def on_frame(self, text: str, ts_ns: int) -> list[Output]: ...


def exchange_symbol(spec: LiveSpec | CaptureSpec) -> str:
    """The spec's exchange symbol, or the first its exchange's table maps to its symbol."""
    if spec.exchange_symbol is not None:
        return spec.exchange_symbol
    for name, symbol in _TABLES[spec.exchange].items():
        if symbol == spec.symbol:
            return name
    raise ValueError(f"{spec.exchange}: no exchange symbol for {spec.symbol!r}: give one")


def adapter_for(specs: Sequence[LiveSpec | CaptureSpec]) -> Adapter:
    """The pure adapter for one connection's specs (one exchange). A stand-in for the
    sessions' factory of the same name until it lands."""
    exchange = specs[0].exchange
    table = {exchange_symbol(spec): spec.symbol for spec in specs}
    if exchange == "kraken":
        return KrakenFeed(list(table), depth=specs[0].depth, symbols=table)
    if exchange == "coinbase":
        return ExchangeFeed(table)
    if exchange == "coinbase-advanced":
        return AdvancedTradeFeed(table)
    raise ValueError(f"{exchange}: no adapter for playback (its REST snapshots are not captured)")


def connections(specs: Sequence[CaptureSpec]) -> list[list[CaptureSpec]]:
    """A venue's captures grouped as connections: one per (exchange, file), in order."""
    groups: dict[tuple[str, str], list[CaptureSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.exchange, spec.path), []).append(spec)
    return list(groups.values())


def _received(specs: list[CaptureSpec], order: int) -> Iterator[tuple[int, int, Received]]:
    """One capture's items, each with its connection's order (ties across captures)."""
    adapter = adapter_for(specs)
    offset = specs[0].time_offset_ns
    for ts, text in cryptofeed_frames(Path(specs[0].path)):
        if offset is None:
            offset = -ts
        at = ts + offset
        outputs = tuple(
            out for out in adapter.on_frame(text, at) if not isinstance(out, NeedSnapshot)
        )
        if outputs:
            yield at, order, Received(at, outputs)


class CaptureInput:
    """A venue's captures in receive-time order (file order within one capture)."""

    def __init__(self, specs: Sequence[CaptureSpec]) -> None:
        self._items = heapq.merge(
            *(_received(group, k) for k, group in enumerate(connections(specs))),
            key=lambda item: (item[0], item[1]),
        )
        self._next = next(self._items, None)

    def batch(self, until: int) -> list[Received]:
        out = []
        item = self._next
        while item is not None and item[0] < until:
            out.append(item[2])
            item = next(self._items, None)
        self._next = item
        return out

    def peek_time(self) -> int | None:
        return None if self._next is None else self._next[0]


class Inbox:
    """What the live loop handed a venue for its next window, in arrival order."""

    def __init__(self) -> None:
        self.items: list[Received] = []

    def batch(self, until: int) -> list[Received]:
        items, self.items = self.items, []
        return items

    def peek_time(self) -> int | None:
        return self.items[0].ts_ns if self.items else None
