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
from meshrt.venues.live.capture import Capture, read_capture
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
        try:
            capture, frames = read_capture(path)
        except OSError as e:
            raise CaptureError(f"{path}: {e.strerror or e}") from None
        except ValueError as e:
            raise CaptureError(str(e)) from None
        exchange, adapter = _adapter(capture, symbol)
        seen[exchange] = seen.get(exchange, 0) + 1
        venue = exchange if seen[exchange] == 1 else f"{exchange}#{seen[exchange]}"
        streams.append(_verified(frames, venue, symbol, adapter))
    return heapq.merge(*streams, key=lambda item: item[0])


def _verified(
    frames: Iterator[tuple[int, str]], venue: str, symbol: str, adapter: Adapter
) -> Iterator[BookEvent]:
    try:
        for ts, frame in frames:
            for out in adapter(frame, ts):
                if type(out) is Feed and out.symbol == symbol:
                    for event in out.events:
                        yield ts, venue, event
                elif type(out) is Resync and out.symbol == symbol:
                    yield ts, venue, None
    except ValueError as e:  # CaptureError: FILE:LINE: reason
        raise CaptureError(str(e)) from None


def _adapter(capture: Capture, symbol: str) -> tuple[str, Adapter]:
    """The capture's exchange (a meshrt recording's header, or the url a cryptofeed capture
    connected to) and an adapter for the symbol, at the depth the capture subscribed."""
    named = capture.header.get("exchange") or capture.header.get("venue")
    url = capture.url or ""
    where = capture.path
    if named == "kraken" or "kraken" in url:
        pairs = [pair for pair, name in kraken_values.SYMBOLS.items() if name == symbol]
        if not pairs:
            raise CaptureError(f"{where}: no Kraken pair maps to {symbol} (docs/live.md, Kraken)")
        depth = capture.header.get("depth") or _kraken_depth(capture.path)
        return "kraken", KrakenFeed(pairs, depth=depth).on_frame
    if named == "coinbase" or "coinbase" in url:
        products = {p: name for p, name in coinbase.SYMBOLS.items() if name == symbol}
        if not products:
            raise CaptureError(f"{where}: no Coinbase product maps to {symbol}")
        return "coinbase", coinbase.ExchangeFeed(products).on_frame
    raise CaptureError(
        f"{where}: not a Kraken or Coinbase capture (a {capture.format.value} file that names "
        f"no exchange: {url or 'no url'})"
    )


def _kraken_depth(path: Path) -> int:
    """The book depth a cryptofeed capture subscribed to (its sent subscribe frame), else
    Kraken's default 10."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for _, line in zip(range(10), lines, strict=False):
            if " <- " in line.partition(": ")[0]:
                try:
                    depth = json.loads(line.partition(": ")[2])["subscription"]["depth"]
                except (ValueError, KeyError, TypeError):
                    continue
                if type(depth) is int:
                    return depth
    return 10
