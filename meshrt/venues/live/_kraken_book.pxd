# Kraken's book at C level: the rule (_kraken_rule.pyx) sets levels, truncates and
# checksums without going through Python.

cimport cython
from libc.stdint cimport int64_t, uint32_t

from meshrt.venues.live._levels cimport Level, Levels


cdef enum:
    CHECKSUM_LEVELS = 10  # the levels per side the checksum covers


@cython.final
cdef class Precision:
    cdef readonly int price_dp, qty_dp
    cdef readonly int64_t price_unit, qty_unit

    cdef bytes c_digits(self, object price, int64_t size)
    cdef bytes digits64(self, int64_t price, int64_t size)


@cython.final
cdef class BookSide(Levels):
    # Levels: the int64 levels, each with its checksum digits (a reference owned here)
    cdef list far  # asks only: [price, size, digits] past the contract's int64 price
    cdef bint changed  # one of the first ten levels changed since the last checksum

    cdef bytes digits_at(self, Py_ssize_t i)
    cdef bint set(self, int64_t price, int64_t size, bytes digits) except -1
    cdef bint set_far(self, object price, int64_t size, bytes digits) except -1
    cdef list truncate(self, Py_ssize_t depth)
    cdef uint32_t crc(self, uint32_t crc) noexcept
    cdef Py_ssize_t count(self) noexcept


@cython.final
cdef class KrakenBook:
    cdef readonly int depth
    cdef readonly object precision  # Precision or None
    cdef readonly BookSide bids, asks
    cdef uint32_t crc
    cdef bint crc_known

    cdef bint c_crossed(self) noexcept
