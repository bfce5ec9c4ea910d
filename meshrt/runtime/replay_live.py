"""A paper run's windows read back from its log, for ``meshrt replay``.

Each ``live_window`` record opens a window; the feed records and live notes of each
venue that follow it, up to the next one, are what that venue got in it, as the items a
session handed over (one per record, in seq order: the venue handles a frame's events
one by one, so this is the same input). The sequencer then runs the live loop on them
without a clock (meshrt/sequencer/live.py), re-deriving every other record.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshrt.log import schema
from meshrt.log.reader import Record, read_log
from meshrt.sequencer.live import LiveLoop, Window
from meshrt.venues.events import FEED_SNAPSHOT
from meshrt.venues.live.refdata import Reference
from meshrt.venues.live.verdicts import (
    Connected,
    Disconnected,
    Feed,
    FrameError,
    Received,
    Resync,
    Why,
)

if TYPE_CHECKING:
    from meshrt.sequencer.actor import Sequencer

_FEED = {record.name: kind for kind, record in schema.FEED_BY_KIND.items()}


class LoggedWindows:
    """The windows of a paper run's log, in order."""

    def __init__(self, log: Path, venues: list[str]) -> None:
        self._venue = {f"venue:{name}": index for index, name in enumerate(venues)}
        _, self._records = read_log(log)
        anchor = next((r for r in self._records if r.type == schema.LIVE_CLOCK.name), None)
        if anchor is None:
            raise ValueError(f"{log}: not a paper run's log: no live_clock record")
        self.wall_ns: int = anchor.payload[0]
        self._opening = self._next_window()

    def _next_window(self) -> Record | None:
        return next((r for r in self._records if r.type == schema.LIVE_WINDOW.name), None)

    async def next(self, sequencer: Sequencer, loop: LiveLoop) -> Window | None:
        opening = self._opening
        if opening is None:
            return None
        self._opening = None
        items: list[list[Received]] = [[] for _ in self._venue]
        for record in self._records:
            if record.type == schema.LIVE_WINDOW.name:
                self._opening = record
                break
            index = self._venue.get(record.source)
            if index is not None:
                item = _item(record)
                if item is not None:
                    items[index].append(item)
        start, until = opening.payload
        return Window(start, until, items)


def _item(record: Record) -> Received | None:
    """The session item a venue's feed or note record stands for (None: a report)."""
    ts, kind, payload = record.event_ts, record.type, record.payload
    feed_kind = _FEED.get(kind)
    if feed_kind is not None:
        assert record.instrument is not None
        event: tuple[Any, ...]
        if feed_kind == FEED_SNAPSHOT:
            bids, asks = (tuple(map(tuple, side)) for side in payload)
            event = (ts, feed_kind, bids, asks)
        else:
            event = (ts, feed_kind, *payload)
        return Received(ts, (Feed(record.instrument, (event,)),))
    if kind == schema.RESYNC.name:
        assert record.instrument is not None
        exchange_symbol, why, detail = payload
        return Received(ts, (Resync(record.instrument, exchange_symbol, Why[why], detail),))
    if kind == schema.CONNECTED.name:
        return Received(ts, (Connected(*payload),))
    if kind == schema.DISCONNECTED.name:
        return Received(ts, (Disconnected(*payload),))
    if kind == schema.FRAME_ERROR.name:
        return Received(ts, (FrameError(*payload),))
    if kind == schema.REFERENCE.name:
        assert record.instrument is not None
        exchange, exchange_symbol, *rules = payload
        return Received(ts, (Reference(exchange, exchange_symbol, record.instrument, *rules),))
    return None
