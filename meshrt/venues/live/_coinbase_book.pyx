"""Coinbase's book for one product: each side's levels sorted in a C array, every price
the wire names (level2 is the full book, no depth).

Compiled: every ``l2update`` change is set here (_coinbase_rule.pyx). A side keeps its
prices (negated for bids, so best first is ascending) and sizes in one array with room at
both ends: a level is inserted or removed by moving the shorter part, the levels before
it (into the room in front) or after it; the best price, which the crossed-book check
reads after every message, is the first level.
"""

cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from libc.stdint cimport int64_t
from libc.string cimport memmove

from meshrt.venues.events import FEED_SNAPSHOT

cdef object C_FEED_SNAPSHOT = FEED_SNAPSHOT


@cython.final
cdef class BookSide:
    """One side: prices best first with their sizes."""

    def __cinit__(self, int64_t sign) -> None:
        self.sign = sign

    def __dealloc__(self) -> None:
        PyMem_Free(self.lv)

    cdef int room(self) except -1:
        """Centre the levels in an array with room for as many again on either side."""
        cdef Py_ssize_t cap = self.cap, lo
        cdef Level *lv = self.lv
        if cap < 2 * self.n + 32:
            cap = 2 * self.n + 32
            lv = <Level *>PyMem_Realloc(lv, cap * sizeof(Level))
            if lv is NULL:
                raise MemoryError
            self.lv, self.cap = lv, cap
        lo = (cap - self.n) // 2
        memmove(lv + lo, lv + self.lo, self.n * sizeof(Level))
        self.lo = lo
        return 0

    cdef int set(self, int64_t price, int64_t size) except -1:
        """Set or (size 0) remove the level at ``price`` (a removal of a price the side
        does not hold changes nothing); 1 if the side held the price, else 0."""
        cdef int64_t key = price * self.sign
        cdef Level *lv = self.lv + self.lo
        cdef Py_ssize_t at = 0, hi = self.n, mid, n = self.n
        while at < hi:  # the first key >= key
            mid = (at + hi) >> 1
            if lv[mid].key < key:
                at = mid + 1
            else:
                hi = mid
        cdef bint there = at < n and lv[at].key == key
        if size:
            if there:
                lv[at].size = size
                return 1
            if at < n - at:  # the levels before it move one to the front
                if self.lo == 0:
                    self.room()
                self.lo -= 1
                lv = self.lv + self.lo
                memmove(lv, lv + 1, at * sizeof(Level))
            else:  # the levels after it move one back
                if self.lo + n == self.cap:
                    self.room()
                lv = self.lv + self.lo
                memmove(lv + at + 1, lv + at, (n - at) * sizeof(Level))
            lv[at].key = key
            lv[at].size = size
            self.n = n + 1
        elif there:
            if at < n - 1 - at:
                memmove(lv + 1, lv, at * sizeof(Level))
                self.lo += 1
            else:
                memmove(lv + at, lv + at + 1, (n - 1 - at) * sizeof(Level))
            self.n = n - 1
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
