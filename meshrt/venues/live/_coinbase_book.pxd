# Coinbase's book at C level: the rule (_coinbase_rule.pyx) sets levels and reads the
# best prices without going through Python.

cimport cython
from libc.stdint cimport int64_t


cdef struct Level:
    int64_t key  # price * sign: ascending is best first
    int64_t size


@cython.final
cdef class BookSide:
    cdef int64_t sign  # 1 for asks (low first), -1 for bids (high first)
    cdef Level *lv  # the levels are lv[lo:lo + n], best first
    cdef Py_ssize_t lo, n, cap

    cdef int room(self) except -1
    cdef int set(self, int64_t price, int64_t size) except -1
    cdef tuple best_first(self)


@cython.final
cdef class CoinbaseBook:
    cdef readonly BookSide bids, asks

    cdef bint crossed(self) noexcept
    cdef tuple snapshot(self, object ts)
