"""The books ``meshrt intel`` reads: a run's log, or recorded exchange captures.

Both become one time-ordered stream of ``(ts, venue, feed event or None)``
(meshrt/analysis/intel.py's ``BookEvent``). A capture goes through the same live adapter
a paper run uses (meshrt/venues/live/), so its books are the verified ones: a symbol the
adapter resyncs is down (None) until its next snapshot, exactly as a venue's instances
would see it.
"""

from __future__ import annotations

import gzip
import heapq
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from meshrt.analysis.book import FeedBook
from meshrt.analysis.intel import BookEvent
from meshrt.log.reader import ReplayReader
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FeedEvent
from meshrt.venues.live import coinbase, kraken_values
from meshrt.venues.live.capture import cryptofeed_frames
from meshrt.venues.live.kraken import KrakenFeed
from meshrt.venues.live.verdicts import Feed, Output, Resync


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


def _levels(levels: list[list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((price, size) for price, size in levels)


def _sorted(levels: dict[int, int], bids: bool) -> tuple[tuple[int, int], ...]:
    return tuple(sorted(levels.items(), reverse=bids))


# -- recorded captures -----------------------------------------------------------------

Adapter = Callable[[str, int], list[Output]]


def capture_books(paths: Sequence[Path], symbol: str) -> Iterator[BookEvent]:
    """The symbol's verified books from each capture, merged by receive time; a venue is
    named by its exchange (``kraken``, ``coinbase``; ``coinbase#2`` for a second file
    of the same exchange)."""
    streams = []
    seen: dict[str, int] = {}
    for path in paths:
        exchange, adapter = _open(path, symbol)
        seen[exchange] = seen.get(exchange, 0) + 1
        venue = exchange if seen[exchange] == 1 else f"{exchange}#{seen[exchange]}"
        streams.append(_verified(path, venue, symbol, adapter))
    return heapq.merge(*streams, key=lambda item: item[0])


def _verified(path: Path, venue: str, symbol: str, adapter: Adapter) -> Iterator[BookEvent]:
    try:
        for ts, frame in cryptofeed_frames(path):
            for out in adapter(frame, ts):
                if type(out) is Feed and out.symbol == symbol:
                    for event in out.events:
                        yield ts, venue, event
                elif type(out) is Resync and out.symbol == symbol:
                    yield ts, venue, None
    except (OSError, ValueError) as e:
        raise CaptureError(f"{path}: {e}") from None


def _open(path: Path, symbol: str) -> tuple[str, Adapter]:
    """The exchange a cryptofeed capture was recorded from (its connect line's URL) and
    an adapter for the symbol, subscribed as the capture was."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as lines:
            head = [next(lines, "") for _ in range(2)]
    except OSError as e:
        raise CaptureError(f"{path}: {e.strerror or e}") from None
    url = head[0].partition(" <-> ")[0]
    if "kraken" in url:
        pairs = [pair for pair, name in kraken_values.SYMBOLS.items() if name == symbol]
        if not pairs:
            raise CaptureError(f"{path}: no Kraken pair maps to {symbol} (docs/live.md, Kraken)")
        return "kraken", KrakenFeed(pairs, depth=_kraken_depth(head[1])).on_frame
    if "coinbase" in url:
        products = {p: name for p, name in coinbase.SYMBOLS.items() if name == symbol}
        if not products:
            raise CaptureError(f"{path}: no Coinbase product maps to {symbol}")
        return "coinbase", coinbase.ExchangeFeed(products).on_frame
    raise CaptureError(
        f"{path}: not a Kraken or Coinbase cryptofeed capture (first line {head[0][:60]!r})"
    )


def _kraken_depth(sent: str) -> int:
    """The book depth the capture subscribed to (its second line), else Kraken's 10."""
    _, _, message = sent.partition(": ")
    try:
        depth = json.loads(message)["subscription"]["depth"]
    except (ValueError, KeyError, TypeError):
        return 10
    return depth if type(depth) is int else 10
