# Coinbase's book at C level: the rule (_coinbase_rule.pyx) sets levels and reads the
# best prices without going through Python.

cimport cython
from libc.stdint cimport int64_t

from meshrt.venues.live._levels cimport Levels


@cython.final
cdef class BookSide(Levels):
    cdef int set(self, int64_t price, int64_t size) except -1
    cdef tuple best_first(self)


@cython.final
cdef class CoinbaseBook:
    cdef readonly BookSide bids, asks

    cdef bint crossed(self) noexcept
    cdef tuple snapshot(self, object ts)
