"""One side of a live adapter's book: its levels sorted in one C array with room at both
ends, the base of Kraken's and Coinbase's ``BookSide`` (_kraken_book.pyx,
_coinbase_book.pyx).

Most changes are near the best price (Kraken's real capture: the median is the 4th
level of 1000), so a level is inserted or removed by moving the shorter part, the
levels before it (into the room in front) or after it: a book at full depth touches a
few cache lines per change, not the whole side.
"""

from cpython.mem cimport PyMem_Free, PyMem_Realloc
from libc.string cimport memmove


cdef class Levels:
    """Levels(sign): prices (times ``sign``, so ascending is best first) with their sizes."""

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

    cdef Level *open_at(self, Py_ssize_t at) except NULL:
        """A new level's place at index ``at`` (0: best), the shorter part moved; its
        fields are the caller's to set."""
        cdef Py_ssize_t n = self.n
        cdef Level *lv
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
        self.n = n + 1
        return lv + at

    cdef void close_at(self, Py_ssize_t at) noexcept:
        """Remove the level at index ``at`` (its fields are the caller's to release), the
        shorter part moved."""
        cdef Level *lv = self.lv + self.lo
        cdef Py_ssize_t n = self.n
        if at < n - 1 - at:
            memmove(lv + 1, lv, at * sizeof(Level))
            self.lo += 1
        else:
            memmove(lv + at, lv + at + 1, (n - 1 - at) * sizeof(Level))
        self.n = n - 1
