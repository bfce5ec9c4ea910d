"""Market structure of one symbol across venues: ``meshrt intel`` (docs/intel.md).

The books come as one time-ordered stream of feed events per venue (a run's log or
recorded captures, meshrt/analysis/intel_sources.py). The stream is sampled on a regular
grid of event time, so every percentile here is a share of *time*, not of updates (a
venue that sends ten times as many updates does not weigh ten times as much). The grid
starts at 1 ms and doubles whenever it would hold more than ``MAX_SAMPLES`` points, so a
one-second capture and a day-long run both get between 2,048 and 4,096 evenly spaced
samples in one pass.

At each sample, per venue with a two-sided book: the spread, the depth within 5/10/25
bps of the venue's own mid, and the cost of taking each size (the average of buying and
selling it at once through the book, in bps of the mid; a size the book cannot fill is
counted as not fillable at that sample, never priced). Across venues: which venue sets
the best bid and the best ask (ties share the sample), and which venue is cheapest for
each size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from statistics import quantiles

from attrs import frozen

from meshrt.analysis.book import FeedBook
from meshrt.contract import SIZE_SCALE
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FeedEvent

MAX_SAMPLES = 4096
FIRST_GRID_NS = 1_000_000
DEPTH_BANDS_BPS = (5, 10, 25)
# sizes taken, in units of the base currency (0.1 to 100, about three per decade)
SIZES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)

# one item of the books stream: (event time ns, venue, feed event or None). None means
# the venue's book can no longer be trusted (feed down, resync) until its next snapshot.
BookEvent = tuple[int, str, FeedEvent | None]


@frozen
class Percentiles:
    """p10, p50 and p90 over the samples that had a value."""

    p10: float
    p50: float
    p90: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Percentiles | None:
        if not values:
            return None
        if len(values) == 1:
            return cls(values[0], values[0], values[0])
        deciles = quantiles(values, n=10, method="inclusive")
        return cls(deciles[0], deciles[4], deciles[8])


@frozen
class TakeCost:
    """The cost of taking ``size`` units on one venue: percentiles of bps over the
    samples where the book could fill it, and the share of samples where it could."""

    size: float
    cost_bps: Percentiles | None
    fillable: float  # share of the venue's two-sided samples
    cheapest: float  # share of all samples where this venue was the cheapest for size


@frozen
class VenueStructure:
    venue: str
    coverage: float  # share of samples with a two-sided book
    updates: int  # feed events received
    spread_bps: Percentiles | None
    depth_units: tuple[tuple[int, Percentiles | None], ...]  # (bps band, both sides' size)
    best_bid_share: float  # share of samples where this venue had the best bid
    best_ask_share: float
    take: tuple[TakeCost, ...]


@frozen
class Structure:
    """What ``meshrt intel`` reports for one symbol."""

    symbol: str
    start_ns: int
    end_ns: int
    samples: int
    grid_ns: int
    venues: tuple[VenueStructure, ...]

    def routing(self, size: float) -> list[tuple[str, float]]:
        """Venues by median cost of taking ``size`` (cheapest first), among those that
        could fill it at least half the time: the routing preference the books imply."""
        ranked = []
        for venue in self.venues:
            cost = next((t for t in venue.take if t.size == size), None)
            if cost is not None and cost.cost_bps is not None and cost.fillable >= 0.5:
                ranked.append((venue.venue, cost.cost_bps.p50))
        return sorted(ranked, key=lambda item: item[1])


@frozen
class _Look:
    """One venue's book at one sample."""

    bid: int
    ask: int
    spread_bps: float
    depth: tuple[float, ...]  # per DEPTH_BANDS_BPS, units
    cost: tuple[float | None, ...]  # per size, bps; None: not fillable


class IntelError(Exception):
    """Nothing to analyse (the symbol never had a book), with the reason."""


def analyse(symbol: str, events: Iterable[BookEvent], sizes: Sequence[float] = SIZES) -> Structure:
    """One pass over the stream; see the module docstring for what is measured."""
    books: dict[str, FeedBook] = {}
    sampler = Sampler(books.get, sizes)
    step = sampler.step
    for ts, venue, event in events:
        step(ts, venue, event is not None and (event[1] == FEED_SNAPSHOT or venue in books))
        if event is None:
            books.pop(venue, None)
        elif event[1] == FEED_SNAPSHOT:
            book = books[venue] = FeedBook()
            book.snapshot(event[2], event[3])
        elif event[1] == FEED_DELTA and venue in books:
            books[venue].delta(event[2], event[3], event[4])
    return sampler.structure(symbol)


class Sampler:
    """The samples on the grid of the venues' books, which the caller keeps: ``book``
    gives a venue's book as it stands. Call ``step`` for each event *before* applying it
    (a sample sees everything up to and at its time), saying whether the venue's book
    is trusted once it is applied. The report's one pass samples the TCA pass's books
    this way (meshrt/analysis/intel_sources.py, ``RunSampler``)."""

    def __init__(
        self, book: Callable[[str], FeedBook | None], sizes: Sequence[float] = SIZES
    ) -> None:
        self.sizes = tuple(sizes)
        self._book = book
        self._scaled = tuple(round(s * SIZE_SCALE) for s in sizes)
        self._trusted: dict[str, bool] = {}
        self._updates: dict[str, int] = {}
        self._samples: list[dict[str, _Look]] = []
        self._cache: dict[str, _Look | None] = {}  # venue -> its look since its last change
        self._grid = FIRST_GRID_NS
        self._start: int | None = None
        self._end: int | None = None
        self._next_at = -(2**63)  # the first event starts the grid

    def step(self, ts: int, venue: str, trusted: bool) -> None:
        """An event of ``venue`` at ``ts`` is about to be applied to its book."""
        if ts > self._next_at:
            self._advance(ts)
        self._end = ts
        self._cache.pop(venue, None)
        updates = self._updates
        updates[venue] = updates.get(venue, 0) + 1
        self._trusted[venue] = trusted

    def _advance(self, ts: int) -> None:
        """Take the samples due before ``ts``."""
        if self._start is None:
            self._start = self._next_at = ts
        while ts > self._next_at:
            self._samples.append(self._sample())
            self._next_at += self._grid
            if len(self._samples) > MAX_SAMPLES:  # keep every other point: the grid doubles
                self._samples = self._samples[::2]
                self._grid *= 2
                self._next_at = self._start + len(self._samples) * self._grid

    def _sample(self) -> dict[str, _Look]:
        looks = {}
        cache = self._cache
        for venue, trusted in self._trusted.items():
            if venue not in cache:
                book = self._book(venue) if trusted else None
                cache[venue] = None if book is None else _look(book, self._scaled)
            look = cache[venue]
            if look is not None:
                looks[venue] = look
        return looks

    def structure(self, symbol: str) -> Structure:
        """What the events so far say (IntelError when there were none)."""
        start, end = self._start, self._end
        if start is None or end is None:
            raise IntelError(f"no book of {symbol} in the input")
        samples = list(self._samples)
        next_at = self._next_at
        while next_at <= end:
            samples.append(self._sample())
            next_at += self._grid
        venues = sorted(self._trusted)
        return _summarise(
            symbol, start, end, self._grid, samples, venues, self._updates, self.sizes
        )


def _look(book: FeedBook, sizes: tuple[int, ...]) -> _Look | None:
    bid, ask = book.best_bid, book.best_ask
    if bid is None or ask is None or bid >= ask:
        return None
    mid = (bid + ask) / 2
    bids = sorted(book.bids.items(), reverse=True)
    asks = sorted(book.asks.items())
    depth = tuple(
        (
            _size_within(bids, mid * (1 - band / 10_000), bids=True)
            + _size_within(asks, mid * (1 + band / 10_000), bids=False)
        )
        / SIZE_SCALE
        for band in DEPTH_BANDS_BPS
    )
    costs = [
        None if buy is None or sell is None else (buy - sell) / 2 / mid * 10_000
        for buy, sell in zip(_vwaps(asks, sizes), _vwaps(bids, sizes), strict=True)
    ]
    return _Look(bid, ask, (ask - bid) / mid * 10_000, depth, tuple(costs))


def _size_within(levels: list[tuple[int, int]], limit: float, *, bids: bool) -> int:
    """The size of the levels (best first) priced no worse than ``limit``."""
    total = 0
    for price, size in levels:
        if price < limit if bids else price > limit:
            break
        total += size
    return total


def _vwaps(levels: list[tuple[int, int]], sizes: tuple[int, ...]) -> list[float | None]:
    """The average price of taking each size through ``levels`` (best first), or None
    where the book holds less: one walk down the book for every size."""
    out: list[float | None] = [None] * len(sizes)
    order = sorted(range(len(sizes)), key=sizes.__getitem__)
    k, n = 0, len(order)
    filled = notional = 0
    for price, available in levels:
        top = filled + available
        while k < n and sizes[order[k]] <= top:
            size = sizes[order[k]]
            out[order[k]] = (notional + (size - filled) * price) / size
            k += 1
        if k == n:
            break
        filled = top
        notional += available * price
    return out


def _summarise(
    symbol: str,
    start: int,
    end: int,
    grid: int,
    samples: list[dict[str, _Look]],
    venues: list[str],
    updates: dict[str, int],
    sizes: Sequence[float],
) -> Structure:
    n = len(samples)
    best_bid = dict.fromkeys(venues, 0.0)
    best_ask = dict.fromkeys(venues, 0.0)
    cheapest = {venue: [0.0] * len(sizes) for venue in venues}
    for looks in samples:
        if not looks:
            continue
        _share(best_bid, looks, max(look.bid for look in looks.values()), lambda look: look.bid)
        _share(best_ask, looks, min(look.ask for look in looks.values()), lambda look: look.ask)
        for i in range(len(sizes)):
            priced = {v: c for v, look in looks.items() if (c := look.cost[i]) is not None}
            if priced:
                low = min(priced.values())
                winners = [v for v, c in priced.items() if c == low]
                for v in winners:
                    cheapest[v][i] += 1 / len(winners)
    out = []
    for venue in venues:
        mine = [looks[venue] for looks in samples if venue in looks]
        take = []
        for i, size in enumerate(sizes):
            costs = [c for look in mine if (c := look.cost[i]) is not None]
            take.append(
                TakeCost(
                    size,
                    Percentiles.of(costs),
                    len(costs) / len(mine) if mine else 0.0,
                    cheapest[venue][i] / n,
                )
            )
        out.append(
            VenueStructure(
                venue=venue,
                coverage=len(mine) / n,
                updates=updates.get(venue, 0),
                spread_bps=Percentiles.of([look.spread_bps for look in mine]),
                depth_units=tuple(
                    (band, Percentiles.of([look.depth[j] for look in mine]))
                    for j, band in enumerate(DEPTH_BANDS_BPS)
                ),
                best_bid_share=best_bid[venue] / n,
                best_ask_share=best_ask[venue] / n,
                take=tuple(take),
            )
        )
    return Structure(symbol, start, end, n, grid, tuple(out))


def _share(
    shares: dict[str, float], looks: dict[str, _Look], best: int, price: Callable[[_Look], int]
) -> None:
    """Each venue at the best price gets an equal part of the sample."""
    winners = [v for v, look in looks.items() if price(look) == best]
    for venue in winners:
        shares[venue] += 1 / len(winners)
