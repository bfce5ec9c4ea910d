"""Coinbase's book for one product: each side's levels sorted in a C array, every price
the wire names (level2 is the full book, no depth).

Compiled: every ``l2update`` change is set here (_coinbase_rule.pyx). A side keeps its
prices (negated for bids, so best first is ascending) and sizes in one array with room at
both ends (_levels.pyx, shared with Kraken's book); the best price, which the
crossed-book check reads after every message, is the first level.
"""

cimport cython
from libc.stdint cimport int64_t

from meshrt.venues.live._levels cimport Level, Levels

from meshrt.venues.events import FEED_SNAPSHOT

cdef object C_FEED_SNAPSHOT = FEED_SNAPSHOT


@cython.final
cdef class BookSide(Levels):
    """One side: prices best first with their sizes (the levels' array: _levels.pyx)."""

    cdef int set(self, int64_t price, int64_t size) except -1:
        """Set or (size 0) remove the level at ``price`` (a removal of a price the side
        does not hold changes nothing); 1 if the side held the price, else 0."""
        cdef int64_t key = price * self.sign
        cdef Py_ssize_t at = self.find(key)
        cdef Level *lv = self.lv + self.lo + at
        cdef bint there = at < self.n and lv.key == key
        if size:
            if not there:
                lv = self.open_at(at)
                lv.key = key
                lv.digits = NULL
            lv.size = size
        elif there:
            self.close_at(at)
        return there

    cdef tuple best_first(self):
        cdef Py_ssize_t i
        cdef Level *lv = self.lv + self.lo
        return tuple([(lv[i].key * self.sign, lv[i].size) for i in range(self.n)])


@cython.final
cdef class CoinbaseBook:
    """One product's book, both sides."""

    def __init__(self) -> None:
        self.bids = BookSide(-1)
        self.asks = BookSide(1)

    cdef bint crossed(self) noexcept:
        """Best bid >= best ask (an empty side crosses nothing)."""
        cdef BookSide bids = self.bids, asks = self.asks
        return bids.n and asks.n and -bids.lv[bids.lo].key >= asks.lv[asks.lo].key

    cdef tuple snapshot(self, object ts):
        """The whole book as one event, both sides best first."""
        return (ts, C_FEED_SNAPSHOT, self.bids.best_first(), self.asks.best_first())
