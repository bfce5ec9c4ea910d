# One side of a live adapter's book at C level: the levels sorted in one array with room
# at both ends (_levels.pyx), the base of Kraken's and Coinbase's BookSide.

from cpython.object cimport PyObject
from libc.stdint cimport int64_t


cdef struct Level:
    int64_t key  # price * sign: ascending is best first
    int64_t size
    PyObject *digits  # Kraken: the level's checksum digits (bytes), owned; Coinbase: NULL


cdef class Levels:
    cdef int64_t sign  # 1 for asks (low first), -1 for bids (high first)
    cdef Level *lv  # the levels are lv[lo:lo + n], best first
    cdef Py_ssize_t lo, n, cap

    cdef int room(self) except -1
    cdef Level *open_at(self, Py_ssize_t at) except NULL
    cdef void close_at(self, Py_ssize_t at) noexcept

    cdef inline Py_ssize_t find(self, int64_t key) noexcept:
        """The index (0: best) of the first level whose key is not below ``key``."""
        cdef Level *lv = self.lv + self.lo
        cdef Py_ssize_t at = 0, hi = self.n, mid
        while at < hi:
            mid = (at + hi) >> 1
            if lv[mid].key < key:
                at = mid + 1
            else:
                hi = mid
        return at
