"""The synthetic source's rules, in plain Python: the home of what the generator does.

``SyntheticWalk`` is the readable specification of ``SyntheticSource`` (the compiled
mirror in meshrt/venues/_synthetic.pyx, which runs: this one is about 30 times slower).
A change to the rules is made here first, then mirrored there step for step;
tests/test_synthetic_mirror.py compares whole event streams of random specs.

Seeded random-walk book: one snapshot, then ``updates - 1`` deltas with trades.

The book is a contiguous tick grid, ``levels`` per side, one tick wide: the best bid is
``start_price`` rounded down to the tick, the best ask one tick above. Each *step*
happens at one timestamp and is one of

- a size change: one level gets a fresh size (1 update);
- a mid move, one tick up or down (4 updates, ordered so no intermediate book is crossed
  or deeper than ``levels``): remove the touch on one side, add a new deepest level
  there, remove the deepest level on the other side, add the new touch on that side;
- a trade: a print at the best bid (aggressor SELL) or ask (aggressor BUY), size in
  [1, level size], then the delta that reduces the level (1 update), or, if it took the
  whole level, the mid move it causes (4 updates, the first removes the level).

A trade step comes first after the update count reaches each multiple of
``trade_every``; prints share the timestamp of the delta(s) they cause. Moves and sweeps
start only with at least five updates left, so every step finishes, the book holds
exactly ``levels`` per side between steps, and a due trade always has room. With the
bid at or below ``levels * tick`` the mid only moves up, so no price reaches 0.

Draws from ``Xoshiro256.seeded(spec.seed)`` (meshrt.venues.rng), in the order a step
makes them (the stream depends on this order); a *size* is ``smin + below(smax - smin
+ 1)`` for ``level_size = (smin, smax)``:

- the book's initial sizes, bids best first, then asks;
- a due trade: ``bit()`` picks the side tried first (1: a buyer lifts the ask), then
  ``1 + below(level size)`` is the print's size; the other side is tried, with a draw of
  its own, only when the first holds one unit it may not sweep. A trade that fits on
  neither side leaves the step, at the same timestamp, to a move or a size change;
- with at least five updates left, ``random() < move_probability`` makes a mid move,
  then ``bit()`` its direction (1: up);
- a size change: ``below(2 * levels)`` picks the level (bids best first, then asks),
  then a size;
- a new level in a mid move: a size (deepest level first);
- last in every step, its duration: ``n * (ceil(interval_ns / 2) + below(interval_ns))``
  for a step of n book updates, 0.5x to 1.5x the interval per update.

Values are int64 as the contract says: a step that would take a price or the clock past
``2**63 - 1`` raises OverflowError instead of going on with values no venue can hold.
"""

from __future__ import annotations

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE, FeedEvent
from meshrt.venues.rng import Xoshiro256
from meshrt.venues.specs import SyntheticSpec

INT64_MAX = 2**63 - 1
SWEEP_ROOM = 5  # updates left for a move or sweep: its 4 deltas and a last update


class SyntheticWalk:
    """A ``Source`` (meshrt.venues.sources) that walks the book by the rules above."""

    def __init__(self, spec: SyntheticSpec, start_ns: int = 0) -> None:
        self.symbol = spec.symbol
        self.spec = spec
        self.tick = spec.tick
        self.levels = spec.levels
        self.smin, smax = spec.level_size
        self.sspan = smax - self.smin + 1
        self.interval = spec.interval_ns
        self.total = spec.updates
        self.every = spec.trade_every or 1
        self.next_trade = spec.trade_every or INT64_MAX  # no trades: due after the end
        self.move_probability = float(spec.move_probability)
        self.bid = spec.start_price // spec.tick * spec.tick
        if self.bid + self.levels * self.tick > INT64_MAX:
            raise OverflowError("synthetic source: the book's deepest ask beyond 64-bit "
                                "fixed point")  # fmt: skip
        self.rng = Xoshiro256.seeded(spec.seed)
        self.bids = [self.size() for _ in range(self.levels)]  # best first: bid - i * tick
        self.asks = [self.size() for _ in range(self.levels)]  # bid + (i + 1) * tick
        self.ts = start_ns
        self.k = 0  # book updates emitted so far; the snapshot is one

    @property
    def exhausted(self) -> bool:
        return self.k >= self.total

    def peek_time(self) -> int | None:
        return None if self.exhausted else self.ts

    def batch(self, until: int) -> list[FeedEvent]:
        out: list[FeedEvent] = []
        if self.k == 0 and self.ts < until:
            bids = tuple((self.bid - i * self.tick, s) for i, s in enumerate(self.bids))
            asks = tuple((self.bid + (i + 1) * self.tick, s) for i, s in enumerate(self.asks))
            out.append((self.ts, FEED_SNAPSHOT, bids, asks))
            self.k = 1
            self.advance(1)
        while self.ts < until and self.k < self.total:
            out += self.step()
        return out

    def size(self) -> int:
        return self.smin + self.rng.below(self.sspan)

    def advance(self, updates: int) -> None:
        half = (self.interval + 1) // 2
        self.ts += updates * (half + self.rng.below(self.interval))
        if self.ts > INT64_MAX:
            raise OverflowError("synthetic source: the clock beyond 64-bit fixed point")

    def step(self) -> list[FeedEvent]:
        """One step's events, all at the current time; then the clock moves on."""
        room = self.total - self.k
        out: list[FeedEvent] = []
        n = 0
        if self.k >= self.next_trade:
            self.next_trade = (self.k // self.every + 1) * self.every
            n = self.trade(out, room)
        if n == 0:  # no trade due, or none fitted: a move or a size change, same time
            if room >= SWEEP_ROOM and self.rng.random() < self.move_probability:
                n = self.move(out, up=self.rng.bit() == 1 or self.bid <= self.levels * self.tick)
            else:
                n = self.change_size(out)
        self.k += n
        self.advance(n)
        return out

    def delta(self, out: list[FeedEvent], side: Side, ticks: int, size: int) -> None:
        """A delta at the price ``ticks`` grid steps above the best bid."""
        out.append((self.ts, FEED_DELTA, side, self.bid + ticks * self.tick, size))

    def change_size(self, out: list[FeedEvent]) -> int:
        i = self.rng.below(2 * self.levels)
        size = self.size()
        if i < self.levels:
            self.bids[i] = size
            self.delta(out, Side.BUY, -i, size)
        else:
            i -= self.levels
            self.asks[i] = size
            self.delta(out, Side.SELL, i + 1, size)
        return 1

    def move(self, out: list[FeedEvent], up: bool) -> int:
        """Shift the book one tick as four deltas; the first removes the touch."""
        n = self.levels
        if up:
            if self.bid + (n + 1) * self.tick > INT64_MAX:  # the new deepest ask
                raise OverflowError("synthetic source: a price beyond 64-bit fixed point")
            self.delta(out, Side.SELL, 1, 0)
            self.asks = [*self.asks[1:], self.size()]
            self.delta(out, Side.SELL, n + 1, self.asks[-1])
            self.delta(out, Side.BUY, -(n - 1), 0)
            self.bids = [self.size(), *self.bids[:-1]]
            self.delta(out, Side.BUY, 1, self.bids[0])
            self.bid += self.tick
        else:
            self.delta(out, Side.BUY, 0, 0)
            self.bids = [*self.bids[1:], self.size()]
            self.delta(out, Side.BUY, -n, self.bids[-1])
            self.delta(out, Side.SELL, n, 0)
            self.asks = [self.size(), *self.asks[:-1]]
            self.delta(out, Side.SELL, 0, self.asks[0])
            self.bid -= self.tick
        return 4

    def trade(self, out: list[FeedEvent], room: int) -> int:
        """Print a trade at the touch and emit what it does to the book.

        Returns the book updates emitted: 1 (level reduced), 4 (level taken, mid moved)
        or 0 when no print fits: both touches hold a single unit, which only a sweep
        could take, and fewer than five updates remain (or the bid is at the floor).
        """
        first = self.rng.bit() == 1
        for buyer in (first, not first):
            level = self.asks[0] if buyer else self.bids[0]
            qty = 1 + self.rng.below(level)
            may_sweep = room >= SWEEP_ROOM and (buyer or self.bid > self.levels * self.tick)
            if qty == level and not may_sweep:
                qty -= 1  # leave one unit
            if qty:
                break
        else:
            return 0
        out.append((self.ts, FEED_TRADE, Side.BUY if buyer else Side.SELL,
                    self.bid + self.tick if buyer else self.bid, qty))  # fmt: skip
        if qty == level:
            return self.move(out, up=buyer)
        if buyer:
            self.asks[0] = level - qty
            self.delta(out, Side.SELL, 1, level - qty)
        else:
            self.bids[0] = level - qty
            self.delta(out, Side.BUY, 0, level - qty)
        return 1
