"""The seeded synthetic market-data generator, compiled.

Why compiled: SyntheticSource.batch is on the hot path of every synthetic run and of the
benchmarks; in Python (meshrt/venues/synthetic.py) a book update costs about 30 times
more. This module mirrors two plain-Python homes step for step and owns no rule:

- ``Xoshiro256`` is meshrt/venues/rng.py: xoshiro256** seeded by splitmix64, Lemire's
  bounded integers, 53-bit floats;
- ``SyntheticSource`` is ``SyntheticWalk`` of meshrt/venues/synthetic.py, where the
  walk's rules and the order of its draws are written down.

tests/test_rng.py and tests/test_synthetic_mirror.py check that each gives the same
stream as its reference. What is only here: int64 bounds (a spec field beyond 64 bits
is an OverflowError when the source is made), a cache of price objects, and pickling.
"""

cimport cython
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from libc.stdint cimport INT64_MAX, INT64_MIN, int64_t, uint64_t

from meshrt.contract import Side
from meshrt.venues.events import FEED_DELTA, FEED_SNAPSHOT, FEED_TRADE

cdef extern from *:
    ctypedef unsigned long long u128 "unsigned __int128"
    ctypedef long long i128 "__int128"

cdef object BUY = Side.BUY, SELL = Side.SELL
cdef object DELTA = FEED_DELTA, TRADE = FEED_TRADE, SNAPSHOT = FEED_SNAPSHOT

cdef enum:
    SWEEP_ROOM = 5  # updates left for a move or sweep (synthetic.SWEEP_ROOM)
    MAX_CACHE = 512  # price objects kept: enough for 254 levels a side


# -- the generator (meshrt/venues/rng.py) ------------------------------------------------

cdef inline uint64_t splitmix64(uint64_t *x) noexcept:
    x[0] += 0x9E3779B97F4A7C15ULL
    cdef uint64_t z = x[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint64_t rotl(uint64_t x, int k) noexcept:
    return (x << k) | (x >> (64 - k))


@cython.final
cdef class Xoshiro256:
    """xoshiro256** seeded by splitmix64, as meshrt.venues.rng.Xoshiro256."""

    cdef uint64_t s[4]

    def __init__(self, state):
        state = tuple(state)
        if len(state) != 4 or not any(state):
            raise ValueError("a xoshiro256** state is four 64-bit words, not all zero")
        for i in range(4):
            self.s[i] = state[i]  # OverflowError beyond 64 bits or below 0

    @staticmethod
    def seeded(seed):
        cdef uint64_t x = <uint64_t>(seed & 0xFFFFFFFFFFFFFFFF)
        cdef Xoshiro256 rng = Xoshiro256.__new__(Xoshiro256)
        for i in range(4):
            rng.s[i] = splitmix64(&x)
        return rng

    @property
    def state(self):
        return (self.s[0], self.s[1], self.s[2], self.s[3])

    cdef inline uint64_t next(self) noexcept:
        cdef uint64_t result = rotl(self.s[1] * 5, 7) * 9
        cdef uint64_t t = self.s[1] << 17
        self.s[2] ^= self.s[0]
        self.s[3] ^= self.s[1]
        self.s[1] ^= self.s[2]
        self.s[0] ^= self.s[3]
        self.s[2] ^= t
        self.s[3] = rotl(self.s[3], 45)
        return result

    cdef inline uint64_t draw_below(self, uint64_t n) noexcept:
        """Lemire's multiply-shift with rejection; n > 0."""
        cdef u128 product = <u128>self.next() * n
        cdef uint64_t threshold
        if <uint64_t>product < n:
            threshold = (0 - n) % n  # 2**64 mod n
            while <uint64_t>product < threshold:
                product = <u128>self.next() * n
        return <uint64_t>(product >> 64)

    cdef inline double draw_random(self) noexcept:
        return <double>(self.next() >> 11) * (1.0 / 9007199254740992.0)  # 2**-53

    def next64(self):
        return self.next()

    def random(self):
        return self.draw_random()

    def bit(self):
        return self.next() >> 63

    def below(self, n):
        if not 0 < n <= 0xFFFFFFFFFFFFFFFF:
            raise ValueError(f"below(n) needs 0 < n < 2**64, got {n}")
        return self.draw_below(n)


# -- the source (meshrt/venues/synthetic.py) ---------------------------------------------

cdef int64_t spec_int(spec, str name) except? -1:
    """An int field of the spec as int64; OverflowError names the field."""
    value = getattr(spec, name)
    if not -2**63 <= value <= INT64_MAX:
        raise OverflowError(f"synthetic source: {name} does not fit 64 bits")
    return value


cdef overflow(str what):
    raise OverflowError(f"synthetic source: {what} beyond 64-bit fixed point")


@cython.final
cdef class SyntheticSource:
    """SyntheticSource(spec, start_ns=0)

    Seeded random-walk book: one snapshot, then ``updates - 1`` deltas with trades.

    The book is a contiguous tick grid, ``levels`` per side; each step, at one
    timestamp, is a size change (1 update), a one-tick mid move (4 updates) or, every
    ``trade_every`` updates, a trade at the touch with the delta or mid move it causes.
    The rules are written down in meshrt/venues/synthetic.py.
    """

    cdef readonly object symbol, spec
    cdef Xoshiro256 rng
    # from the spec
    cdef int64_t tick, levels, total, every, smin, interval, half, floor, up_limit
    cdef uint64_t sspan
    cdef double move_probability
    # the walk
    cdef int64_t ts, k, next_trade, bid
    cdef int64_t *bids  # sizes best first: bids[i] at bid - i * tick
    cdef int64_t *asks  # asks[i] at bid + (i + 1) * tick
    # Price objects by grid price, slot (price / tick) & mask: a book event's price is
    # one of the few around the touch, so most events reuse one instead of making it.
    cdef int64_t bid_tick  # bid / tick
    cdef size_t mask
    cdef list prices
    cdef int64_t *cached  # the price each slot's object holds

    def __init__(self, spec, int64_t start_ns=0):
        if self.spec is not None:
            raise TypeError("SyntheticSource is already initialized")
        self.tick = spec_int(spec, "tick")
        self.levels = spec_int(spec, "levels")
        cdef int64_t start_price = spec_int(spec, "start_price")
        self.interval = spec_int(spec, "interval_ns")
        self.total = spec_int(spec, "updates")
        cdef int64_t trade_every = spec_int(spec, "trade_every")
        self.move_probability = spec.move_probability
        if (self.tick < 1 or self.levels < 1 or start_price < 1 or self.interval < 1
                or self.total < 1 or trade_every < 0
                or not 0.0 <= self.move_probability <= 1.0):
            raise ValueError("not a valid SyntheticSpec (see its validation)")
        smin, smax = spec.level_size
        if not 1 <= smin <= smax <= INT64_MAX:
            raise ValueError("level_size must be (min, max) with 1 <= min <= max")
        self.smin = smin
        self.sspan = <uint64_t>(smax - smin + 1)
        cdef int64_t bid = start_price // self.tick * self.tick
        if bid + self.levels * <object>self.tick > INT64_MAX:
            overflow("the book's deepest ask")
        if bid - (self.levels - 1) * self.tick <= 0:
            raise ValueError("start_price leaves no room for the bid levels")
        self.floor = self.levels * self.tick
        # the highest bid whose up move keeps the new deepest ask in int64
        self.up_limit = max(INT64_MAX - (self.levels + 1) * <object>self.tick, -1)
        self.half = (self.interval + 1) // 2
        self.every = trade_every or 1
        self.next_trade = trade_every or INT64_MAX  # no trades: due after the end
        self.bids = <int64_t *>PyMem_Calloc(self.levels, sizeof(int64_t))
        self.asks = <int64_t *>PyMem_Calloc(self.levels, sizeof(int64_t))
        cdef size_t slots = 8  # a power of two above the 2 * levels + 2 prices of a step
        while slots < MAX_CACHE and slots < 2 * <size_t>self.levels + 4:
            slots *= 2
        self.mask = slots - 1
        self.cached = <int64_t *>PyMem_Calloc(slots, sizeof(int64_t))
        if self.bids == NULL or self.asks == NULL or self.cached == NULL:
            raise MemoryError()
        self.prices = [None] * slots
        self.rng = Xoshiro256.seeded(spec_int(spec, "seed"))
        self.set_bid(bid)
        cdef int64_t i
        for i in range(self.levels):
            self.bids[i] = self.size()
        for i in range(self.levels):
            self.asks[i] = self.size()
        self.ts = start_ns
        self.k = 0  # book updates emitted so far; the snapshot (made by batch) is one
        self.symbol = spec.symbol
        self.spec = spec

    def __dealloc__(self):
        PyMem_Free(self.bids)
        PyMem_Free(self.asks)
        PyMem_Free(self.cached)

    @property
    def exhausted(self):
        """Every update has been returned."""
        return self.k >= self.total

    def peek_time(self):
        """Time of the next event, ``None`` once exhausted."""
        return None if self.k >= self.total else self.ts

    def batch(self, until):
        """Every remaining event with ``ts < until``, in order; a later call continues."""
        cdef list out = []
        if until <= INT64_MIN or self.k >= self.total:
            return out
        cdef int64_t last = INT64_MAX if until > INT64_MAX else <int64_t>(until - 1)
        if self.ts > last:
            return out
        if self.k == 0:
            out.append(self.snapshot())
            self.k = 1
            self.advance(1)
        while self.ts <= last and self.k < self.total:
            self.step(out)
        return out

    # -- a step, as SyntheticWalk.step ---------------------------------------------------

    cdef inline int64_t size(self) noexcept:
        return self.smin + <int64_t>self.rng.draw_below(self.sspan)

    cdef inline int advance(self, int64_t updates) except -1:
        cdef int64_t per_update = self.half + <int64_t>self.rng.draw_below(<uint64_t>self.interval)
        cdef i128 ts = <i128>self.ts + <i128>updates * per_update
        if ts > INT64_MAX:
            overflow("the clock")
        self.ts = <int64_t>ts
        return 0

    cdef int step(self, list out) except -1:
        cdef int64_t room = self.total - self.k, n = 0
        cdef int64_t periods
        if self.k >= self.next_trade:
            periods = self.k // self.every + 1
            self.next_trade = (periods * self.every if periods <= INT64_MAX // self.every
                               else INT64_MAX)  # never reached: k < total <= INT64_MAX
            n = self.trade(out, room)
        if n == 0:
            if room >= SWEEP_ROOM and self.rng.draw_random() < self.move_probability:
                n = self.move(out, self.rng.next() >> 63 == 1 or self.bid <= self.floor)
            else:
                n = self.change_size(out)
        self.k += n
        self.advance(n)
        return 0

    cdef inline object price_at(self, int64_t ticks):
        """The price object ``ticks`` grid steps above the best bid."""
        cdef int64_t price = self.bid + ticks * self.tick
        cdef size_t slot = <size_t>(self.bid_tick + ticks) & self.mask
        p = self.prices[slot]
        if p is None or self.cached[slot] != price:
            p = price
            self.prices[slot] = p
            self.cached[slot] = price
        return p

    cdef inline void set_bid(self, int64_t bid) noexcept:
        self.bid = bid
        self.bid_tick = bid // self.tick

    cdef inline int delta(self, list out, side, int64_t ticks, int64_t size) except -1:
        out.append((self.ts, DELTA, side, self.price_at(ticks), size))
        return 0

    cdef int64_t change_size(self, list out) except -1:
        cdef int64_t i = <int64_t>self.rng.draw_below(2 * <uint64_t>self.levels)
        cdef int64_t size = self.size()
        if i < self.levels:
            self.bids[i] = size
            self.delta(out, BUY, -i, size)
        else:
            i -= self.levels
            self.asks[i] = size
            self.delta(out, SELL, i + 1, size)
        return 1

    cdef int64_t move(self, list out, bint up) except -1:
        """Shift the book one tick as four deltas; the first removes the touch."""
        cdef int64_t n = self.levels, i
        cdef int64_t *bids = self.bids
        cdef int64_t *asks = self.asks
        if up:
            if self.bid > self.up_limit:
                overflow("a price")
            self.delta(out, SELL, 1, 0)
            for i in range(n - 1):
                asks[i] = asks[i + 1]
            asks[n - 1] = self.size()
            self.delta(out, SELL, n + 1, asks[n - 1])
            self.delta(out, BUY, -(n - 1), 0)
            for i in range(n - 1, 0, -1):
                bids[i] = bids[i - 1]
            bids[0] = self.size()
            self.delta(out, BUY, 1, bids[0])
            self.set_bid(self.bid + self.tick)
        else:
            self.delta(out, BUY, 0, 0)
            for i in range(n - 1):
                bids[i] = bids[i + 1]
            bids[n - 1] = self.size()
            self.delta(out, BUY, -n, bids[n - 1])
            self.delta(out, SELL, n, 0)
            for i in range(n - 1, 0, -1):
                asks[i] = asks[i - 1]
            asks[0] = self.size()
            self.delta(out, SELL, 0, asks[0])
            self.set_bid(self.bid - self.tick)
        return 4

    cdef int64_t trade(self, list out, int64_t room) except -1:
        """Print a trade at the touch; the book updates emitted (1, 4, or 0: none fits)."""
        cdef bint first = self.rng.next() >> 63 == 1, buyer = first
        cdef int64_t level = 0, qty = 0
        cdef int tried
        for tried in range(2):
            buyer = first if tried == 0 else not first
            level = self.asks[0] if buyer else self.bids[0]
            qty = 1 + <int64_t>self.rng.draw_below(<uint64_t>level)
            if qty == level and not (room >= SWEEP_ROOM and (buyer or self.bid > self.floor)):
                qty -= 1  # leave one unit
            if qty:
                break
        if qty == 0:
            return 0
        out.append((self.ts, TRADE, BUY if buyer else SELL, self.price_at(1 if buyer else 0),
                    qty))
        if qty == level:
            return self.move(out, buyer)
        if buyer:
            self.asks[0] = level - qty
            self.delta(out, SELL, 1, level - qty)
        else:
            self.bids[0] = level - qty
            self.delta(out, BUY, 0, level - qty)
        return 1

    cdef tuple snapshot(self):
        """(ts, FEED_SNAPSHOT, bids, asks) with (price, size) levels best first."""
        cdef int64_t i
        bids = tuple([(self.bid - i * self.tick, self.bids[i]) for i in range(self.levels)])
        asks = tuple([(self.bid + (i + 1) * self.tick, self.asks[i])
                      for i in range(self.levels)])
        return (self.ts, SNAPSHOT, bids, asks)

    # -- pickling: the spec rebuilds the constants, the state continues the walk ---------

    def __reduce__(self):
        """Pickle as the spec and the walk's state (generator, book, clock, counts)."""
        if self.spec is None:
            raise TypeError("SyntheticSource is not initialized")
        cdef int64_t i
        state = (self.ts, self.k, self.next_trade, self.bid,
                 tuple([self.bids[i] for i in range(self.levels)]),
                 tuple([self.asks[i] for i in range(self.levels)]), self.rng.state)
        return (SyntheticSource, (self.spec,), state)

    def __setstate__(self, state):
        if self.spec is None:
            raise TypeError("SyntheticSource is not initialized")
        ts, k, next_trade, bid, bids, asks, rng = state
        if (not 0 <= k <= self.total or not 1 <= next_trade <= INT64_MAX
                or bid - (self.levels - 1) * self.tick <= 0
                or bid + self.levels * self.tick > INT64_MAX
                or len(bids) != self.levels or len(asks) != self.levels
                or not all(1 <= s <= INT64_MAX for s in (*bids, *asks))):
            raise ValueError("SyntheticSource state out of range")
        self.rng = Xoshiro256(rng)
        cdef int64_t i
        for i in range(self.levels):
            self.bids[i] = bids[i]
            self.asks[i] = asks[i]
        self.ts = ts
        self.k = k
        self.next_trade = next_trade
        self.set_bid(bid)
