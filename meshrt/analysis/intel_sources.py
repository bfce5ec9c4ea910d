"""The books ``meshrt intel`` reads: a run's log, or recorded exchange captures.

Both become one time-ordered stream of ``(ts, venue, feed event or None)``
(meshrt/analysis/intel.py's ``BookEvent``). A capture goes through capture playback
(meshrt/venues/live/playback.py), the same adapters and snapshot hand-over a live
session uses, so its books are the verified ones: a symbol the
adapter resyncs is down (None) until its next snapshot, exactly as a venue's instances
would see it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from meshrt.analysis.book import FeedBook
from meshrt.analysis.intel import BookEvent, Sampler, Structure
from meshrt.log.reader import Record, ReplayReader
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FeedEvent
from meshrt.venues.live import playback
from meshrt.venues.live.capture import Format, sniff
from meshrt.venues.live.verdicts import Feed, Resync


class CaptureError(Exception):
    """A capture meshrt intel cannot read, with the file and the reason."""


# -- a run's log -----------------------------------------------------------------------


def run_books(run: Path, symbol: str) -> Iterator[BookEvent]:
    """The symbol's feed on every venue of a run, in log order. A venue whose feed goes
    down is None until it comes back up, when it is re-sent as a snapshot of its book."""
    books: dict[str, FeedBook] = {}
    down: set[str] = set()
    with ReplayReader(run, allow_unknown_types=True) as reader:
        for record in reader:
            kind, venue, ts = record.type, record.venue, record.event_ts
            if record.instrument == symbol and kind in ("snapshot", "delta"):
                book = books.setdefault(venue, FeedBook())
                book.apply(kind, record.payload)
                if venue in down:
                    continue
                if kind == "snapshot":
                    bids, asks = record.payload
                    event: FeedEvent = (ts, FEED_SNAPSHOT, _levels(bids), _levels(asks))
                else:
                    event = (ts, FEED_DELTA, *record.payload)
                yield ts, venue, event
            elif kind == "feed_down" and record.payload[0] in books:
                down.add(record.payload[0])
                yield ts, record.payload[0], None
            elif kind == "feed_up" and record.payload[0] in down:
                name = record.payload[0]
                down.discard(name)
                book = books[name]
                snapshot = (ts, FEED_SNAPSHOT, _sorted(book.bids, True), _sorted(book.asks, False))
                yield ts, name, snapshot


KINDS = frozenset({"snapshot", "delta", "feed_down", "feed_up"})  # what RunSampler reads


class RunSampler:
    """``run_books``' rule for one symbol, sampled on books another pass keeps: the
    report's one pass over a log, whose TCA pass rebuilds every venue symbol's book
    (``books``, by (venue, symbol)). ``observe`` each record before that pass applies it;
    ``structure()`` equals ``analyse(symbol, run_books(run, symbol))``."""

    def __init__(self, symbol: str, books: Mapping[tuple[str, str], FeedBook]) -> None:
        self.symbol = symbol
        self.sampler = Sampler(lambda venue: books.get((venue, symbol)))
        self._step = self.sampler.step
        self._seen: set[str] = set()  # venues with a record of the symbol
        self._snapshot: set[str] = set()  # venues whose book started from a snapshot
        self._down: set[str] = set()

    def observe(self, record: Record) -> None:
        kind = record.type
        if kind == "delta" or kind == "snapshot":
            venue = record.venue
            if record.instrument != self.symbol or venue in self._down:
                return
            if kind == "snapshot":
                self._snapshot.add(venue)
                self._seen.add(venue)
            elif venue not in self._seen:
                self._seen.add(venue)
            self._step(record.event_ts, venue, venue in self._snapshot)
        elif kind == "feed_down" and record.payload[0] in self._seen:
            self._down.add(record.payload[0])
            self._step(record.event_ts, record.payload[0], False)
        elif kind == "feed_up" and record.payload[0] in self._down:
            self._down.discard(record.payload[0])
            self._snapshot.add(record.payload[0])  # re-sent as a snapshot of its book
            self._step(record.event_ts, record.payload[0], True)

    def structure(self) -> Structure:
        return self.sampler.structure(self.symbol)


def _levels(levels: list[list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((price, size) for price, size in levels)


def _sorted(levels: dict[int, int], bids: bool) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(levels.items(), reverse=bids))


# -- recorded captures -----------------------------------------------------------------


def capture_books(paths: Sequence[Path], symbol: str) -> Iterator[BookEvent]:
    """The symbol's verified books from each capture, merged by receive time; a venue is
    named by its exchange (``kraken``, ``binance``; ``coinbase#2`` for a second file of
    the same exchange). A cryptofeed REST log among ``paths`` gives the Binance captures
    their depth snapshots."""
    try:
        rest_logs = [path for path in paths if sniff(path).format is Format.CRYPTOFEED_REST]
        plays = [
            playback.for_symbol(path, symbol, rest_logs) for path in paths if path not in rest_logs
        ]
    except OSError as e:
        raise CaptureError(f"{e.filename}: {e.strerror or e}") from None
    except ValueError as e:  # the capture reader's CaptureError: FILE:LINE: reason
        raise CaptureError(str(e)) from None
    if not plays:
        raise CaptureError("no capture of frames given (only REST logs)")
    streams = []
    seen: dict[str, int] = {}
    for play in plays:
        seen[play.exchange] = seen.get(play.exchange, 0) + 1
        count = seen[play.exchange]
        venue = play.exchange if count == 1 else f"{play.exchange}#{count}"
        streams.append(_verified(play, venue, symbol))
    return heapq.merge(*streams, key=lambda item: item[0])


def _verified(play: playback.Playback, venue: str, symbol: str) -> Iterator[BookEvent]:
    """What a live session on the capture would hand its venue, as the symbol's books: a
    resync takes the venue's book down until its next snapshot."""
    try:
        for item in playback.received(play):
            ts = item.ts_ns
            for out in item.outputs:
                if type(out) is Feed and out.symbol == symbol:
                    for event in out.events:
                        yield ts, venue, event
                elif type(out) is Resync and out.symbol == symbol:
                    yield ts, venue, None
    except ValueError as e:  # CaptureError: FILE:LINE: reason
        raise CaptureError(str(e)) from None
